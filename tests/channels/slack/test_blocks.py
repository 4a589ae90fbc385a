"""Block Kit rendering within Slack's limits."""

from __future__ import annotations

from bot.channels.slack import blocks
from bot.core.messages import Choice, Citation, Question, Reply


def test_a_long_answer_is_split_into_sections_and_messages_within_slack_limits():
    paragraph = "Lotse erklärt die Roadmap Schritt für Schritt. " * 40  # ~1,900 characters
    reply = Reply("\n\n".join([paragraph] * 60), "de", answer_id=7)  # ~115,000 characters
    messages = blocks.render(reply)
    assert len(messages) > 1
    for fallback, message_blocks in messages:
        assert len(message_blocks) <= 50 and len(fallback) <= 3000
        assert all(len(b["text"]["text"]) <= 3000 for b in message_blocks if b["type"] == "section")
    sections = [b["text"]["text"] for _, mb in messages for b in mb if b["type"] == "section"]
    assert "".join(sections).replace(" ", "").replace("\n", "") == reply.text.replace(" ", "").replace("\n", "")
    assert messages[-1][1][-1]["type"] == "context_actions"  # the 👍/👎 close the last message


def test_answer_text_is_escaped_and_sources_name_title_and_section():
    citation = Citation(1, "Leitfaden <Teil 1>", "de/leitfaden.md", "Phase 1 › Daten", "…", 0.9)
    reply = Reply("A & B <script> [1]", "de", [citation], answer_id=3)
    [(_, message_blocks)] = blocks.render(reply)
    assert message_blocks[0]["text"]["text"] == "A &amp; B &lt;script&gt; [1]"
    assert message_blocks[1]["elements"][0]["text"] == "Quellen:\n[1] *Leitfaden &lt;Teil 1&gt;* › Phase 1 › Daten"
    linked = Citation(1, "Unternehmens-FAQ", "Unternehmens-FAQ", "Lizenzen", "…", 0.9, url="https://intranet.example/l")
    [(_, message_blocks)] = blocks.render(Reply("Antwort [1]", "de", [linked]))
    assert "[1] *<https://intranet.example/l|Unternehmens-FAQ>* › Lizenzen" in message_blocks[1]["elements"][0]["text"]


def test_an_llm_answer_goes_in_markdown_blocks_within_slacks_limit():
    """An LLM writes standard Markdown: Slack's markdown block renders it (as the stream's markdown_text);
    its text is not escaped for mrkdwn, and one message holds at most 12,000 characters of them."""
    citation = Citation(1, "Leitfaden", "de/leitfaden.md", "Phase 1", "…", 0.9)
    reply = Reply("**Budget:** 2.000 € & mehr pro Person [1]\n\n- Schulung\n- Coaching", "de", [citation], mode="llm")
    [(fallback, message_blocks)] = blocks.render(reply)
    assert message_blocks[0] == {"type": "markdown", "text": reply.text}
    assert message_blocks[1]["type"] == "context" and "&amp;" in fallback  # sources and fallback stay mrkdwn
    long = Reply(("Ein Absatz über KI-Schulungen mit allerlei Details. " * 40 + "\n\n") * 12, "de", mode="llm")
    messages = blocks.render(long)  # about 25,000 characters
    assert len(messages) == 3
    shown = "".join(b["text"] for _, mb in messages for b in mb if b["type"] == "markdown")
    assert shown.replace(" ", "").replace("\n", "") == long.text.replace(" ", "").replace("\n", "")
    for _, message_blocks in messages:
        assert sum(len(b["text"]) for b in message_blocks if b["type"] == "markdown") <= 12000
    assert blocks.render(Reply("*Piloten*", "de"))[0][1][0]["type"] == "section"  # Lotse's own texts: mrkdwn


def test_escaping_never_pushes_a_section_over_the_limit():
    [(_, message_blocks)] = blocks.render(Reply("F&E " * 1000, "de"))
    assert all(len(b["text"]["text"]) <= 3000 for b in message_blocks if b["type"] == "section")


def test_a_dialog_question_becomes_buttons_and_controls():
    question = Question(
        "readiness", "cloud", "yesno", [Choice("1:yes", "Ja"), Choice("1:no", "Nein")], False, True, "Frage 2 von 4"
    )
    [(_, message_blocks)] = blocks.render(Reply("Cloud?", "de", mode="dialog", question=question))
    assert message_blocks[0] == blocks.context("*Frage 2 von 4*")
    choices, controls = [b for b in message_blocks if b["type"] == "actions"]
    assert [(e["text"]["text"], e["value"]) for e in choices["elements"]] == [("Ja", "1:yes"), ("Nein", "1:no")]
    assert [e["value"] for e in controls["elements"]] == ["back", "pause", "cancel"]  # not optional: no skip
    assert len({e["action_id"] for e in choices["elements"] + controls["elements"]}) == 5


def test_core_commands_are_shown_as_lotse_subcommands_and_forms_get_a_button():
    [(fallback, message)] = blocks.render(
        Reply("Dazu passt `/check data_quality`; Stand: /plan · Einladen: `/invite @Lotse`", "de", form="feedback")
    )
    assert (
        message[0]["text"]["text"] == "Dazu passt `/lotse check data_quality`; Stand: /lotse plan · "
        "Einladen: `/invite @Lotse`"
    )
    assert "/lotse check data_quality" in fallback
    [button] = message[-1]["elements"]
    assert (button["action_id"], button["value"]) == ("lotse_feedback_open", "de")


def test_every_message_and_update_gets_block_ids_of_its_own():
    from bot.core.messages import Choice, Question

    question = Question("readiness", "q1", "choice", [Choice("a", "A"), Choice("b", "B")])
    [(_, first)] = blocks.render(Reply("Frage?", "de", question=question, answer_id=4))
    [(_, second)] = blocks.render(Reply("Frage?", "de", question=question, answer_id=4))
    ids = [b["block_id"] for b in first if "block_id" in b]
    assert ids and len(set(ids)) == len(ids) and not set(ids) & {b.get("block_id") for b in second}
    updated = blocks.answered(first, "A")
    assert not {b.get("block_id") for b in updated if "block_id" in b} & set(ids)
    assert all(i.split(".")[0] in ("lotse_choices_0", "lotse_controls", "lotse_feedback") for i in ids)
