from ingest.analysis import Analyzer, words


def test_numbers_are_normalised_across_formats_and_words():
    assert words("2.000 bis 5.000 Euro, €2,000") == ["2000", "bis", "5000", "euro", "2000"]
    assert words("Woche zwei, die dritte Woche, week three, the first week")[1] == "2"
    assert "3" in words("die dritte Woche") and "3" in words("week three") and "1" in words("the first week")


def test_german_compound_is_split_into_parts_the_corpus_knows():
    analyzer = Analyzer("de", ["weiterbildung", "budget", "schulung"])
    terms = analyzer.terms("Weiterbildungsbudget")
    assert analyzer.terms("Budget")[0] in terms
    assert analyzer.terms("Weiterbildung")[0] in terms


def test_unknown_parts_are_not_split():
    analyzer = Analyzer("de", ["budget"])
    assert analyzer.split_compound("sonnenschirm") == ()


def test_stop_words_are_dropped_and_words_stemmed():
    terms = Analyzer("de").terms("Wie viele Schulungen brauchen wir?")
    assert "wie" not in terms and "schulung" in terms
    assert Analyzer("en").terms("How much training budgets")[-1] == "budget"


def test_week_ranges_only_for_bis_or_a_dash_and_lists_stay_lists():
    from ingest.analysis import week_terms

    assert week_terms(words("Woche 5–6")) == ["week#5", "week#6"]
    assert week_terms(words("Woche 5 bis 7")) == ["week#5", "week#6", "week#7"]
    assert week_terms(words("Woche 1 und 5")) == ["week#1", "week#5"]
    assert week_terms(words("weeks 9 and 10")) == ["week#9", "week#10"]
