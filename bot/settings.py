"""Configuration: environment variables first, then `config/settings.yaml`, then defaults.

Every setting has one name in the environment (``LOTSE_*``, ``OPENAI_*``) and one key in the YAML
file; the table in the README lists them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting is missing or has a value Lotse cannot use; the message says which and why."""


ROLES = ("admin", "champion", "employee")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lotse"


def _default_knowledge_dir() -> Path:
    here = Path.cwd() / "knowledge"
    return here if here.is_dir() else PROJECT_ROOT / "knowledge"


def _default_assessments_dir() -> Path:
    here = Path.cwd() / "config" / "assessments"
    return here if here.is_dir() else PROJECT_ROOT / "config" / "assessments"


def _default_pilots_dir() -> Path:
    here = Path.cwd() / "config" / "pilots"
    return here if here.is_dir() else PROJECT_ROOT / "config" / "pilots"


def _default_actions_file() -> Path:
    here = Path.cwd() / "config" / "actions.yaml"
    return here if here.is_file() else PROJECT_ROOT / "config" / "actions.yaml"


def _default_plan_file() -> Path:
    here = Path.cwd() / "config" / "plan.yaml"
    return here if here.is_file() else PROJECT_ROOT / "config" / "plan.yaml"


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible chat endpoint; `enabled` is false when neither key nor base URL is set."""

    api_key: str | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    timeout: float = 20.0
    max_retries: int = 1
    temperature: float = 0.1
    api_version: str | None = None  # set for Azure OpenAI
    local: bool = False  # on premises (Ollama, vLLM): text is sent as it is; otherwise personal data is masked
    daily_calls: int | None = None  # LLM calls per day (UTC) for all replicas together; None: unlimited
    daily_tokens: int | None = None  # tokens per day; the call that crosses the limit is the last one

    @property
    def enabled(self) -> bool:
        return bool(self.api_key or self.base_url)

    @property
    def is_azure(self) -> bool:
        return bool(self.api_version) or ".openai.azure.com" in (self.base_url or "")

    def __repr__(self) -> str:  # the API key never ends up in logs or tracebacks
        return (
            f"LLMSettings(enabled={self.enabled}, model={self.model!r}, local={self.local}, timeout={self.timeout}, "
            f"daily_calls={self.daily_calls}, daily_tokens={self.daily_tokens})"
        )


@dataclass(frozen=True)
class SlackSettings:
    """The Slack app: a bot token always; then Socket Mode (app token) or HTTP mode (signing secret)."""

    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None  # xapp-…: Socket Mode, no public URL needed
    api_url: str = "https://slack.com/api/"
    team_id: str | None = None  # only this workspace is served
    admins: frozenset[str] = frozenset()  # Slack user IDs allowed to run admin subcommands
    champions: frozenset[str] = frozenset()  # Slack user IDs of change champions
    knowledge_owners: frozenset[str] = frozenset()  # Slack user IDs who answer knowledge gaps (none: admins)

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    def __repr__(self) -> str:  # tokens never end up in logs or tracebacks
        return f"SlackSettings(enabled={self.enabled}, socket_mode={self.socket_mode}, team_id={self.team_id!r})"


@dataclass(frozen=True)
class TeamsSettings:
    """The Azure Bot registration: app id and password (or managed identity), app type and tenant."""

    app_id: str | None = None
    app_password: str | None = None
    app_type: str = "SingleTenant"  # or UserAssignedMSI (new registrations cannot be multi-tenant)
    tenant_id: str | None = None
    allow_anonymous: bool = False  # LOTSE_TEAMS_ALLOW_ANONYMOUS=1: local emulator only, loopback only
    admins: frozenset[str] = frozenset()  # AAD object IDs allowed to run admin commands
    champions: frozenset[str] = frozenset()  # AAD object IDs of change champions
    knowledge_owners: frozenset[str] = frozenset()  # AAD object IDs who answer knowledge gaps (none: admins)
    openid_metadata_url: str | None = None  # tests and staging: where the Bot Framework signing keys are read

    @property
    def enabled(self) -> bool:
        return bool(self.app_id) or self.allow_anonymous

    def incomplete(self) -> str | None:
        """What serving Teams still needs, or None. Only `lotse serve` asks: `lotse teams-package` needs the
        app id alone (the zip holds nothing else)."""
        kind = self.app_type.lower()
        if self.app_id and kind == "singletenant" and not (self.app_password and self.tenant_id):
            return "MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID"
        if self.app_id and kind == "userassignedmsi" and not self.tenant_id:
            return "MICROSOFT_APP_TYPE=UserAssignedMSI needs MICROSOFT_APP_TENANT_ID"
        return None

    def __repr__(self) -> str:  # the password never ends up in logs or tracebacks
        return f"TeamsSettings(enabled={self.enabled}, app_type={self.app_type!r}, anonymous={self.allow_anonymous})"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=_default_data_dir)
    knowledge_dir: Path = field(default_factory=_default_knowledge_dir)
    database_url: str | None = None
    chroma_url: str | None = None  # a Chroma server (http://host:port) instead of the embedded store
    llm: LLMSettings = field(default_factory=LLMSettings)
    top_k: int = 5
    max_question_chars: int = 2000
    embedding_model: str | None = None  # None: USE multilingual from the wheel (offline)
    assessments_dir: Path = field(default_factory=_default_assessments_dir)
    slack: SlackSettings = field(default_factory=SlackSettings)
    teams: TeamsSettings = field(default_factory=TeamsSettings)
    public_url: str | None = None  # where Teams can fetch chart images (https://lotse.example.com)
    plan_file: Path = field(default_factory=_default_plan_file)
    actions_file: Path = field(default_factory=_default_actions_file)  # what plain-word requests can do
    actions: bool = True  # LOTSE_ACTIONS=0: requests in plain words are not acted on (questions only)
    gaps: bool = True  # LOTSE_GAPS=0: refused and 👎-rated questions are not logged for the knowledge owners
    pilots_dir: Path = field(default_factory=_default_pilots_dir)  # the pilot set-up and feedback dialogs
    register_owner: str = "IT-Leitung"  # the owner Lotse names in its own entry of the AI register
    scheduler: bool = True  # `lotse serve` runs the nudges (one process at a time holds the lead)
    console_role: str = "admin"  # the role of whoever types in `lotse chat`: admin, champion, employee
    retention_months: int = 24  # conversations, dialogs and feedback older than this are purged daily
    log_format: str = "text"  # "json": one JSON object per line, with request ids (for log collectors)
    db_auto_upgrade: bool = True  # migrate the schema at start; off: only `lotse db upgrade` does
    max_message_chars: int = 4000  # longer messages are refused with a clear message, before anything else
    rate_per_minute: int = 10  # questions per user and minute (0: no limit), counted across replicas
    rate_per_hour: int = 100  # questions per user and hour (0: no limit)
    inbox_lease: float = 10.0  # seconds before another replica takes over the turns of one that went silent
    stop_grace: float = 20.0  # seconds a SIGTERM leaves the turns in flight to finish (then they are handed over)
    # `lotse serve`: turns of different users worked at once (one user's turns: one at a time); None: 4 with an
    # LLM (its turns wait seconds for the endpoint), else 2 (one computes while the other waits for the database)
    core_threads: int | None = None

    @property
    def turn_threads(self) -> int:
        """The core's threads in `lotse serve` (`core_threads`, or its default for this configuration)."""
        return self.core_threads or (4 if self.llm.enabled else 2)

    @property
    def charts_dir(self) -> Path:
        return self.data_dir / "charts"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'lotse.db'}"


def _yaml_settings(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return data


def _pick(env: dict[str, str], env_name: str, conf_value: Any, default: Any = None) -> Any:
    """The environment wins over YAML, YAML over the default; an empty variable counts as unset."""
    value = env.get(env_name)
    return value if value not in (None, "") else (conf_value if conf_value is not None else default)


def _flag(raw: Any) -> bool:
    """On/off from YAML (true/false) or the environment (1/0, true/false, yes/no, on/off)."""
    return str(raw).strip().lower() in ("1", "true", "yes", "on")


def _number(name: str, raw: Any, kind: type) -> Any:
    try:
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}={raw!r} is not a {kind.__name__}; fix it in the environment or YAML") from exc


def _seconds(name: str, raw: Any, minimum: float) -> float:
    value = _number(name, raw, float)
    if value < minimum:
        raise ConfigError(f"{name}={value:g}: use a number of seconds of at least {minimum:g}")
    return value


def _limit(name: str, raw: Any, minimum: int = 0, maximum: int | None = None, why: str = "") -> int:
    """A whole number from `minimum` up to `maximum` (`why`: what more would do)."""
    value = _number(name, raw, int)
    if value < minimum:
        raise ConfigError(f"{name}={value}: use a whole number of at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value}: use at most {maximum}" + (f" ({why})" if why else ""))
    return value


CORE_THREADS_MOST = 8  # the database pool (bot/storage/db.py) is shared with the inbox, intake and scheduler


def _core_threads(raw: Any) -> int | None:
    """Unset: the default for the configuration (`Settings.turn_threads`)."""
    if raw is None:
        return None
    return _limit("LOTSE_CORE_THREADS", raw, 1, CORE_THREADS_MOST, "more would wait for database connections")


def _daily_budget(name: str, raw: Any) -> int | None:
    """A daily budget: unset means unlimited, 0 means none at all."""
    if raw is None:
        return None
    value = _number(name, raw, int)
    if value < 0:
        raise ConfigError(f"{name}={value}: use 0 or more (leave it unset for no limit)")
    return value


def load_settings(env: dict[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Read the settings; `env` defaults to the process environment."""
    env = dict(os.environ if env is None else env)
    config_file = config_file or Path(env.get("LOTSE_CONFIG", PROJECT_ROOT / "config" / "settings.yaml"))
    conf = _yaml_settings(Path(config_file))
    llm_conf = conf.get("llm") or {}

    def pick(env_name: str, conf_value: Any, default: Any = None) -> Any:
        return _pick(env, env_name, conf_value, default)

    llm = LLMSettings(
        api_key=pick("OPENAI_API_KEY", None),
        base_url=pick("OPENAI_BASE_URL", llm_conf.get("base_url")),
        model=pick("LOTSE_LLM_MODEL", llm_conf.get("model"), "gpt-4o-mini"),
        timeout=_number("LOTSE_LLM_TIMEOUT", pick("LOTSE_LLM_TIMEOUT", llm_conf.get("timeout"), 20.0), float),
        max_retries=_number("LOTSE_LLM_RETRIES", pick("LOTSE_LLM_RETRIES", llm_conf.get("retries"), 1), int),
        api_version=pick("OPENAI_API_VERSION", llm_conf.get("api_version")),
        local=_flag(pick("LOTSE_LLM_LOCAL", llm_conf.get("local"), False)),
        daily_calls=_daily_budget("LOTSE_LLM_DAILY_CALLS", pick("LOTSE_LLM_DAILY_CALLS", llm_conf.get("daily_calls"))),
        daily_tokens=_daily_budget(
            "LOTSE_LLM_DAILY_TOKENS", pick("LOTSE_LLM_DAILY_TOKENS", llm_conf.get("daily_tokens"))
        ),
    )
    data_dir = pick("LOTSE_DATA_DIR", conf.get("data_dir"))
    knowledge_dir = pick("LOTSE_KNOWLEDGE_DIR", conf.get("knowledge_dir"))
    assessments_dir = pick("LOTSE_ASSESSMENTS_DIR", conf.get("assessments_dir"))
    plan_file = pick("LOTSE_PLAN_FILE", conf.get("plan_file"))
    actions_file = pick("LOTSE_ACTIONS_FILE", conf.get("actions_file"))
    pilots_dir = pick("LOTSE_PILOTS_DIR", conf.get("pilots_dir"))
    scheduler = _flag(pick("LOTSE_SCHEDULER", conf.get("scheduler"), True))
    console_role = str(pick("LOTSE_CONSOLE_ROLE", conf.get("console_role"), "admin")).strip().lower()
    if console_role not in ROLES:
        raise ConfigError(f"LOTSE_CONSOLE_ROLE={console_role!r}: use one of {', '.join(ROLES)}")
    retention = _number("LOTSE_RETENTION_MONTHS", pick("LOTSE_RETENTION_MONTHS", conf.get("retention_months"), 24), int)
    if retention < 1:
        raise ConfigError(f"LOTSE_RETENTION_MONTHS={retention}: keep data at least 1 month")
    log_format = str(pick("LOTSE_LOG_FORMAT", conf.get("log_format"), "text")).strip().lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"LOTSE_LOG_FORMAT={log_format!r}: use text or json")
    defaults = Settings()
    slack = _slack_settings(env, conf.get("slack") or {})
    return Settings(
        slack=slack,
        teams=_teams_settings(env, conf.get("teams") or {}),
        public_url=pick("LOTSE_PUBLIC_URL", conf.get("public_url")),
        data_dir=Path(data_dir).expanduser() if data_dir else defaults.data_dir,
        knowledge_dir=Path(knowledge_dir).expanduser() if knowledge_dir else defaults.knowledge_dir,
        database_url=pick("LOTSE_DATABASE_URL", conf.get("database_url")),
        chroma_url=pick("LOTSE_CHROMA_URL", conf.get("chroma_url")),
        llm=llm,
        top_k=_number("LOTSE_TOP_K", pick("LOTSE_TOP_K", conf.get("top_k"), 5), int),
        embedding_model=pick("LOTSE_EMBEDDING_MODEL", conf.get("embedding_model")),
        assessments_dir=Path(assessments_dir).expanduser() if assessments_dir else defaults.assessments_dir,
        plan_file=Path(plan_file).expanduser() if plan_file else defaults.plan_file,
        actions_file=Path(actions_file).expanduser() if actions_file else defaults.actions_file,
        actions=_flag(pick("LOTSE_ACTIONS", conf.get("actions"), True)),
        gaps=_flag(pick("LOTSE_GAPS", conf.get("gaps"), True)),
        pilots_dir=Path(pilots_dir).expanduser() if pilots_dir else defaults.pilots_dir,
        register_owner=str(pick("LOTSE_REGISTER_OWNER", conf.get("register_owner"), "IT-Leitung")).strip()
        or "IT-Leitung",
        scheduler=scheduler,
        console_role=console_role,
        retention_months=retention,
        log_format=log_format,
        db_auto_upgrade=_flag(pick("LOTSE_DB_AUTO_UPGRADE", conf.get("db_auto_upgrade"), True)),
        max_message_chars=_limit(
            "LOTSE_MAX_MESSAGE_CHARS", pick("LOTSE_MAX_MESSAGE_CHARS", conf.get("max_message_chars"), 4000), 1
        ),
        rate_per_minute=_limit("LOTSE_RATE_PER_MINUTE", pick("LOTSE_RATE_PER_MINUTE", conf.get("rate_per_minute"), 10)),
        rate_per_hour=_limit("LOTSE_RATE_PER_HOUR", pick("LOTSE_RATE_PER_HOUR", conf.get("rate_per_hour"), 100)),
        inbox_lease=_seconds("LOTSE_INBOX_LEASE", pick("LOTSE_INBOX_LEASE", conf.get("inbox_lease"), 10), 1.0),
        stop_grace=_seconds("LOTSE_STOP_GRACE", pick("LOTSE_STOP_GRACE", conf.get("stop_grace"), 20), 0.0),
        core_threads=_core_threads(pick("LOTSE_CORE_THREADS", conf.get("core_threads"))),
    )


def _slack_settings(env: dict[str, str], conf: dict[str, Any]) -> SlackSettings:
    def get(name: str, key: str, default: Any = None) -> Any:
        return _pick(env, name, conf.get(key), default)

    slack = SlackSettings(
        bot_token=get("SLACK_BOT_TOKEN", "bot_token"),
        signing_secret=get("SLACK_SIGNING_SECRET", "signing_secret"),
        app_token=get("SLACK_APP_TOKEN", "app_token"),
        api_url=get("SLACK_API_URL", "api_url", SlackSettings.api_url),
        team_id=get("SLACK_TEAM_ID", "team_id"),
        admins=frozenset(_list(get("SLACK_ADMIN_USERS", "admins", ""))),
        champions=frozenset(_list(get("LOTSE_SLACK_CHAMPIONS", "champions", ""))),
        knowledge_owners=frozenset(_list(get("LOTSE_SLACK_KNOWLEDGE_OWNERS", "knowledge_owners", ""))),
    )
    if slack.enabled and not (slack.app_token or slack.signing_secret):
        raise ConfigError(
            "SLACK_BOT_TOKEN is set, but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode)"
        )
    if slack.app_token and not slack.app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information page)")
    return slack


def _list(raw: Any) -> list[str]:
    if isinstance(raw, list | tuple):
        return [str(x).strip() for x in raw if str(x).strip()]
    return [x.strip() for x in str(raw).split(",") if x.strip()]


def _teams_settings(env: dict[str, str], conf: dict[str, Any]) -> TeamsSettings:
    def get(name: str, key: str, default: Any = None) -> Any:
        return _pick(env, name, conf.get(key), default)

    teams = TeamsSettings(
        app_id=get("MICROSOFT_APP_ID", "app_id"),
        app_password=get("MICROSOFT_APP_PASSWORD", "app_password"),
        app_type=get("MICROSOFT_APP_TYPE", "app_type", "SingleTenant"),
        tenant_id=get("MICROSOFT_APP_TENANT_ID", "tenant_id"),
        allow_anonymous=_flag(get("LOTSE_TEAMS_ALLOW_ANONYMOUS", "allow_anonymous", False)),
        admins=frozenset(_list(get("LOTSE_TEAMS_ADMINS", "admins", ""))),
        champions=frozenset(_list(get("LOTSE_TEAMS_CHAMPIONS", "champions", ""))),
        knowledge_owners=frozenset(_list(get("LOTSE_TEAMS_KNOWLEDGE_OWNERS", "knowledge_owners", ""))),
        openid_metadata_url=get("LOTSE_TEAMS_OPENID_METADATA_URL", "openid_metadata_url"),
    )
    kind = teams.app_type.lower()
    if kind not in ("singletenant", "userassignedmsi", "multitenant"):
        raise ConfigError(f"MICROSOFT_APP_TYPE={teams.app_type!r}: use SingleTenant or UserAssignedMSI")
    return teams  # complete enough to serve? `TeamsSettings.incomplete`, checked by `lotse serve`
