"""LLM answers: the messages (bot/answering/prompts.py) → ChatOpenAI over the `openai` client → text.

Works with any OpenAI-compatible endpoint: OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio. Failures
(timeouts, HTTP errors, rate limits, refused connections) raise `LLMUnavailable`; the caller falls
back to the extractive answer. So do a spent daily budget and a reply that fails the output checks.

One answer, in order:
1. Unless the endpoint is marked local, personal data in the question, the earlier turns and the
   passages is masked, with one vault for the request (bot/safety/masking.py).
2. One call is taken from the daily budget (bot/safety/budget.py), atomically across replicas.
3. The model answers; its placeholders are put back and citations of passages it was not given dropped.
4. The reply is checked (bot/safety/output.py) before any of it is shown. While it streams, only
   whole sentences that pass the checks so far are passed on, so a failing reply shows nothing of
   what made it fail.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable

from bot.answering.prompts import CANARY, LANGUAGE_NAMES, NO_ANSWER, messages, system_prompt
from bot.answering.retrieval import Passage
from bot.safety.masking import Masker, Vault, unmask
from bot.safety.output import OutputGuard, Sources
from bot.settings import LLMSettings

log = logging.getLogger(__name__)


class LLMUnavailable(Exception):
    """The model did not answer, or its answer may not be shown. `reason` is short, from a fixed set and
    safe to show and to use as a metrics label; `note_key` names the locale text that explains the
    fallback to the user (None: the model could not be reached, `llm_fallback_note`)."""

    def __init__(self, reason: str, note_key: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.note_key = note_key


def _reason(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.RateLimitError):
        return "rate limit (HTTP 429)"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        return "connection failed"
    return exc.__class__.__name__


HOLD_BACK = len(NO_ANSWER) + 20  # nothing is streamed before the reply is clearly not a refusal
STREAM_DEADLINE = 3.0  # a streamed answer may take this many times LOTSE_LLM_TIMEOUT in total
_SENTENCE_END = re.compile(r"[.!?…:;][\"»“”)\]]*(?=\s)|\n")


def _clean(text: str, vault: Vault, passages: int) -> str:
    """The reply with the masked values back, without citations of passages it was not given."""
    text = unmask(text, vault)
    return re.sub(r"\[(\d+)\]", lambda m: m.group(0) if 1 <= int(m.group(1)) <= passages else "", text).lstrip()


def _tokens_of(message) -> int:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("total_tokens") or 0)


def chat_model(s: LLMSettings):
    """The LangChain chat model for the configured OpenAI-compatible endpoint (OpenAI, Azure, Ollama, …)."""
    common = dict(
        api_key=s.api_key or "not-needed",  # local servers (Ollama, vLLM, LM Studio) take any key
        timeout=s.timeout,
        max_retries=s.max_retries,
        temperature=s.temperature,
    )
    if s.is_azure:
        from langchain_openai import AzureChatOpenAI

        return AzureChatOpenAI(azure_endpoint=s.base_url, api_version=s.api_version, azure_deployment=s.model, **common)
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=s.model, base_url=s.base_url, **common)


class LLMAnswerer:
    def __init__(
        self,
        settings: LLMSettings,
        names: Callable[[], Iterable[str]] | None = None,
        db=None,
        budget=None,
    ) -> None:
        """`names`: the display names of the people Lotse knows (masked towards a non-local endpoint);
        `db` (a Database) counts the daily budget, or pass a `budget` (bot.safety.budget.LlmBudget)."""
        from bot.safety.budget import LlmBudget

        self.settings = settings
        self.model = self._model()
        self.names = names
        self.budget = budget or (LlmBudget(db, settings.daily_calls, settings.daily_tokens) if db is not None else None)
        self.guard = OutputGuard([system_prompt(language) for language in LANGUAGE_NAMES], CANARY)
        self._masker: tuple[tuple[str, ...], Masker] | None = None
        self._lock = threading.Lock()

    def _model(self):
        return chat_model(self.settings)

    def masker(self) -> Masker | None:
        """The masker for the names known now, or None when the endpoint is local (nothing is masked)."""
        if self.settings.local:
            return None
        names = tuple(self.names() if self.names else ())
        with self._lock:
            if self._masker is None or self._masker[0] != names:
                self._masker = (names, Masker(names))
            return self._masker[1]

    def prepare(
        self, question: str, passages: list[Passage], language: str, history: list[tuple[str, str]]
    ) -> tuple[list, Vault]:
        """The messages exactly as they leave for the endpoint, and the vault to read the reply with."""
        from dataclasses import replace

        vault = Vault()
        masker = self.masker()
        if masker is not None:

            def mask(text: str) -> str:
                return masker.mask(text, vault)

            question = mask(question)
            history = [(role, mask(text)) for role, text in history]
            passages = [replace(p, text=mask(p.text), title=mask(p.title), section=mask(p.section)) for p in passages]
        turns = [("user" if role == "user" else "assistant", text) for role, text in history]
        return messages(language, turns, question, passages), vault

    def answer(
        self,
        question: str,
        passages: list[Passage],
        language: str,
        history: list[tuple[str, str]],
        on_text: Callable[[str], None] | None = None,
    ) -> str | None:
        """The cited answer, or None when the model says the passages do not contain it. With
        `on_text`, the answer is streamed: each new piece of text is passed to it once it is checked."""
        import openai

        prompt, vault = self.prepare(question, passages, language, history)
        sources = Sources(passages, question, history, language)
        day = None
        if self.budget is not None:
            day = self.budget.take()
            if day is None:
                raise LLMUnavailable("daily budget", "llm_budget_note")
        reply, tokens, shown = "", 0, ""
        try:
            if on_text is None:
                message = self.model.invoke(prompt)
                reply, tokens = str(message.content), _tokens_of(message)
            else:
                reply, tokens, shown = self._stream(prompt, vault, sources, len(passages), on_text)
        except (openai.OpenAIError, OSError) as exc:
            raise LLMUnavailable(_reason(exc)) from exc
        finally:
            if day is not None:
                if not tokens:  # the endpoint did not report usage: about four characters a token
                    tokens = (sum(len(str(m.content)) for m in prompt) + len(reply)) // 4
                self.budget.spend(day, tokens)
        reply = reply.strip()
        if not reply or NO_ANSWER in reply:
            return None
        text = _clean(reply, vault, len(passages))
        reason = self.guard.check(text, sources)
        if reason is not None:
            log.warning("an LLM reply was withheld by the output checks (%s); the answer is extractive", reason)
            raise LLMUnavailable(f"output check: {reason}", "llm_blocked_note")
        if on_text is not None and text.startswith(shown) and len(text) > len(shown):
            on_text(text[len(shown) :])
        return text

    def _stream(
        self, prompt: list, vault: Vault, sources: Sources, passages: int, on_text: Callable[[str], None]
    ) -> tuple[str, int, str]:
        """(the reply, its tokens, the text passed on so far). Text is passed on a sentence at a time,
        once the reply is clearly not the no-answer marker and the text so far passes the checks."""
        text, tokens, shown, checked = "", 0, "", 0
        deadline = time.monotonic() + STREAM_DEADLINE * self.settings.timeout
        for chunk in self.model.stream(prompt):
            text += str(chunk.content)
            tokens = max(tokens, _tokens_of(chunk))
            if time.monotonic() > deadline:
                import openai

                raise openai.APITimeoutError(request=None)  # type: ignore[arg-type]
            if len(text) < HOLD_BACK or NO_ANSWER in text:
                continue
            ends = [m.end() for m in _SENTENCE_END.finditer(text)]
            if not ends or ends[-1] <= checked:
                continue
            checked = ends[-1]
            candidate = _clean(text[:checked], vault, passages)
            if candidate.startswith(shown) and self.guard.check(candidate, sources, complete=False) is None:
                on_text(candidate[len(shown) :])
                shown = candidate
        return text, tokens, shown
