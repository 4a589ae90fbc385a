"""LLM answers: a LangChain chain (prompt → ChatOpenAI over the `openai` client → text).

Works with any OpenAI-compatible endpoint: OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio. Failures
(timeouts, HTTP errors, rate limits, refused connections) raise `LLMUnavailable`; the caller falls
back to the extractive answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from bot.answering.prompts import LANGUAGE_NAMES, NO_ANSWER, SYSTEM, user_message
from bot.answering.retrieval import Passage
from bot.settings import LLMSettings


class LLMUnavailable(Exception):
    """The model did not answer; `reason` is short and safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def _streamed(pieces: Iterable[str], on_text: Callable[[str], None]) -> str:
    """Join the streamed pieces, passing text on once it cannot be the no-answer marker any more."""
    text, shown = "", 0
    for piece in pieces:
        text += piece
        if len(text) >= HOLD_BACK and NO_ANSWER not in text and len(text) > shown:
            on_text(text[shown:])
            shown = len(text)
    if shown < len(text) and NO_ANSWER not in text and text.strip():
        on_text(text[shown:])
    return text


class LLMAnswerer:
    def __init__(self, settings: LLMSettings) -> None:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

        self.settings = settings
        prompt = ChatPromptTemplate.from_messages(
            [("system", SYSTEM), MessagesPlaceholder("history"), ("human", "{message}")]
        )
        self.chain = prompt | self._model() | StrOutputParser()

    def _model(self):
        s = self.settings
        common = dict(
            api_key=s.api_key or "not-needed",  # local servers (Ollama, vLLM, LM Studio) take any key
            timeout=s.timeout,
            max_retries=s.max_retries,
            temperature=s.temperature,
        )
        if s.is_azure:
            from langchain_openai import AzureChatOpenAI

            return AzureChatOpenAI(
                azure_endpoint=s.base_url, api_version=s.api_version, azure_deployment=s.model, **common
            )
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=s.model, base_url=s.base_url, **common)

    def answer(
        self,
        question: str,
        passages: list[Passage],
        language: str,
        history: list[tuple[str, str]],
        on_text: Callable[[str], None] | None = None,
    ) -> str | None:
        """The cited answer, or None when the model says the passages do not contain it. With
        `on_text`, the answer is streamed: each new piece of text is passed to it as it arrives."""
        import openai

        inputs = {
            "language_name": LANGUAGE_NAMES.get(language, "German"),
            "no_answer": NO_ANSWER,
            "history": [("human" if role == "user" else "ai", text) for role, text in history],
            "message": user_message(question, passages),
        }
        try:
            reply = self.chain.invoke(inputs) if on_text is None else _streamed(self.chain.stream(inputs), on_text)
        except (openai.OpenAIError, OSError) as exc:
            raise LLMUnavailable(_reason(exc)) from exc
        reply = reply.strip()
        if not reply or NO_ANSWER in reply:
            return None
        # a citation of a passage that was not given is dropped rather than shown
        return re.sub(r"\[(\d+)\]", lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(passages) else "", reply)
