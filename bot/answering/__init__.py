"""Answering questions from the knowledge index: hybrid retrieval, then an LLM or extractive answer."""

from bot.answering.retrieval import Passage, Retriever
from bot.answering.service import Answer, AnswerService

__all__ = ["Answer", "AnswerService", "Passage", "Retriever"]
