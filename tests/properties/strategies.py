"""What users type, as hypothesis strategies: numbers in every notation (with Unicode digits, huge and
tiny ones, scale words), dates near and far (years 0 to 99999), quarters, ids with thousands of digits,
control characters, empty and blank text — mixed with arbitrary Unicode text."""

from __future__ import annotations

from hypothesis import strategies as st

# digits int() takes ("٣", "३") and digits it rejects although str.isdigit() says yes ("²", "①")
ODD_DIGITS = "²³¹⁰①٣३߃"
NOISE = ["", " ", "\t", "\n", "\x00", "\x1b[31m", "\u200b", "\u2212", "-", "+", "#", "/", ":", ".", ",", "'",
         "%", "€", "e", "E", "inf", "nan", "∞"]  # fmt: skip
SCALES = ["", "k", "tsd", "mio", "Mio.", "mrd", "Mrd.", "milliarden", "€", "%", "h", "Std", "min", "prozent"]


def digits(most: int = 30) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789" + ODD_DIGITS, min_size=1, max_size=most)


def huge_number() -> st.SearchStrategy[str]:
    """Ids and numbers with up to 5,000 digits (Python refuses int() of more than 4,300)."""
    return st.one_of(
        st.sampled_from([19, 20, 400, 4301, 5000]).map(lambda n: "9" * n),
        st.integers(18, 5000).map(lambda n: "9" * n),
        st.integers(300, 320).map(lambda n: "1" + "0" * n),
    )


def number_words() -> st.SearchStrategy[str]:
    sign = st.sampled_from(["", "-", "+", "\u2212"])
    body = st.one_of(
        digits(),
        huge_number(),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.integers().map(lambda n: f"{n:,}"),
        st.integers().map(lambda n: f"{n:,}".replace(",", ".")),
        st.builds(lambda a, b: f"{a},{b}", digits(8), digits(8)),
        st.builds(lambda a, b: f"{a}.{b}", digits(8), digits(8)),
    )
    return st.builds(
        lambda s, b, gap, scale: f"{s}{b}{gap}{scale}", sign, body, st.sampled_from(["", " "]), st.sampled_from(SCALES)
    )


def date_words() -> st.SearchStrategy[str]:
    year = st.integers(0, 99999)
    return st.one_of(
        st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", year, st.integers(0, 13), st.integers(0, 32)),
        st.builds(lambda y, m, d: f"{d}.{m}.{y}", year, st.integers(0, 13), st.integers(0, 32)),
        st.builds(lambda d, m: f"{d}.{m}.", st.integers(0, 32), st.integers(0, 13)),
        st.builds(
            lambda n, unit: f"in {n} {unit}",
            st.sampled_from(["1", "999", "einem", "a", "٣", "²"]),
            st.sampled_from(["Tagen", "weeks", "Monaten", "Jahren", "years", "Äonen"]),
        ),
        st.sampled_from(
            [
                "heute",
                "morgen",
                "today",
                "tomorrow",
                "9999-12-31",
                "0001-01-01",
                "0000-01-01",
                "10000-01-01",
                "31.12.9999",
                "1.1.1",
                "29.02.2100",
            ]
        ),
    )


def quarter_words() -> st.SearchStrategy[str]:
    year = st.one_of(st.integers(0, 9999).map(lambda y: f"{y:04d}"), digits(6))
    return st.one_of(
        st.builds(lambda y, q, sep: f"{y}{sep}Q{q}", year, st.integers(0, 9), st.sampled_from(["-", " ", "/", ""])),
        st.builds(lambda y, q: f"Q{q} {y}", year, st.integers(0, 9)),
        st.builds(lambda y, q: f"{q}/{y}", year, st.integers(0, 9)),
        st.sampled_from(["q4", "Q1", "0000-Q1", "9999-Q4", "٢٠٢٦-Q4", "2026-Q²"]),
    )


def words() -> st.SearchStrategy[str]:
    """One word or a short phrase of what people type, at its most awkward."""
    return st.one_of(
        st.text(max_size=40),
        st.sampled_from(NOISE),
        number_words(),
        date_words(),
        quarter_words(),
        huge_number(),
        digits(),
        st.sampled_from(
            [
                "ja",
                "nein",
                "yes",
                "no",
                "fertig",
                "überspringen",
                "zurück",
                "behalten",
                "hilfe",
                "?",
                "kpi",
                "ziel",
                "start",
                "ende",
                "einmalig",
                "nutzer",
                "anonym",
                "heute",
                "W01",
                "1.1",
            ]
        ),
    )


def argument(word: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """The words after a command: up to five of `word` (default: `words`), joined by odd whitespace."""
    return st.lists(words() if word is None else word, max_size=5).flatmap(
        lambda parts: st.sampled_from([" ", "  ", "\t", "\u00a0"]).map(lambda gap: gap.join(parts))
    )
