"""The people's rights in chat (what is stored about me, my data, erase my data) and the retention
period: a feature of its own, beside the others it reads (it knows their tables through `personal`)."""

from bot.privacy.personal import REMOVED, PersonalData
from bot.privacy.requests import ERASE, Privacy, months_before, purge

__all__ = ["ERASE", "REMOVED", "PersonalData", "Privacy", "months_before", "purge"]
