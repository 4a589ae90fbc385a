"""Authentication for Teams on botbuilder 4.17.1: the Bot Framework's signing keys fetched off the event
loop with a timeout, Azure AD tokens requested with a timeout, and the configuration botbuilder reads."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import requests
from botbuilder.integration.aiohttp import (
    ConfigurationServiceClientCredentialFactory,
)
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import _OpenIdMetadata
from msal import ConfidentialClientApplication

from bot.settings import TeamsSettings

log = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"

KEY_FETCH_TIMEOUT = 10.0  # seconds for each request of the signing-key refresh
TOKEN_TIMEOUT = 10.0  # seconds for each request of an outbound token to Azure AD (msal's default: no limit)
MSAL_OPTIONS: dict = {}  # further ConfidentialClientApplication options (the tests turn off instance discovery)
KEY_FETCH_PAUSE = timedelta(minutes=1)  # after a failed refresh, requests are refused at once for this long


async def _refresh_keys_off_the_loop(self: _OpenIdMetadata) -> None:
    """botbuilder 4.17.1 fetches the Bot Framework signing keys with a blocking `requests.get` without a
    timeout, on the event loop that also serves Slack; and after a failure every request fetches again.
    This does the same fetch on a worker thread with a timeout, and pauses after a failure."""
    failed = getattr(self, "lotse_failed", None)
    if failed is not None and datetime.now() - failed[0] < KEY_FETCH_PAUSE:
        raise failed[1]

    def fetch() -> list:
        metadata = requests.get(self.url, timeout=KEY_FETCH_TIMEOUT)
        metadata.raise_for_status()
        keys = requests.get(metadata.json()["jwks_uri"], timeout=KEY_FETCH_TIMEOUT)
        keys.raise_for_status()
        return keys.json()["keys"]

    try:
        self.keys = await asyncio.to_thread(fetch)
    except requests.RequestException as exc:
        self.lotse_failed = (datetime.now(), exc)
        raise
    self.lotse_failed = None
    self.last_updated = datetime.now()


_OpenIdMetadata._refresh = _refresh_keys_off_the_loop  # the SDK is archived and pinned: see the README


class _BoundedMsal:
    """Stands in for the msal app `MicrosoftAppCredentials` builds on first use: the same app, built the same
    way on first use, but whose requests to Azure AD give up after TOKEN_TIMEOUT. botbuilder builds it without
    a timeout, so an Azure AD that does not answer would hold every reply and nudge for ever."""

    def __init__(self, credentials: MicrosoftAppCredentials) -> None:
        self._credentials = credentials
        self._app: ConfidentialClientApplication | None = None

    def _get(self) -> ConfidentialClientApplication:
        if self._app is None:
            c = self._credentials
            self._app = ConfidentialClientApplication(
                client_id=c.microsoft_app_id,
                timeout=TOKEN_TIMEOUT,
                client_credential=c.microsoft_app_password,
                authority=c.oauth_endpoint,
                **MSAL_OPTIONS,
            )
        return self._app

    def acquire_token_silent(self, *args, **kwargs):
        return self._get().acquire_token_silent(*args, **kwargs)

    def acquire_token_for_client(self, *args, **kwargs):
        return self._get().acquire_token_for_client(*args, **kwargs)


class BoundedCredentialFactory(ConfigurationServiceClientCredentialFactory):
    """botbuilder's factory for the configured app type, with a time limit on the token requests of
    password credentials (MultiTenant, SingleTenant)."""

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool):
        credentials = await super().create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
        if isinstance(credentials, MicrosoftAppCredentials) and credentials.microsoft_app_id and not credentials.app:
            credentials.app = _BoundedMsal(credentials)
        return credentials


class BotConfig:
    """The attributes botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, teams: TeamsSettings) -> None:
        self.APP_ID = teams.app_id or ""
        self.APP_PASSWORD = teams.app_password or ""
        # an empty app id means authentication is off (local emulator only; see TeamsChannel)
        self.APP_TYPE = teams.app_type if teams.app_id else "MultiTenant"
        self.APP_TENANTID = teams.tenant_id or ""
        if teams.openid_metadata_url:  # tests and staging: signing keys from elsewhere, same checks
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = teams.openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = BOT_FRAMEWORK_ISSUER
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = BOT_FRAMEWORK_ISSUER
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
                f"https://login.microsoftonline.com/{teams.tenant_id or 'botframework.com'}"
            )
