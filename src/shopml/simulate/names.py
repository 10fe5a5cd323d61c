"""The drift scenarios' names and one-line descriptions (no imports: the CLI's help reads them)."""

__all__ = ["SCENARIOS"]

#: Scenario name -> one-line description.
SCENARIOS: dict[str, str] = {
    "none": "stationary apart from the calendar (weekly/daily cycles, holidays)",
    "sudden_covariate": "a new market (country, currency, amount mix) opens on the onset day",
    "gradual_concept": "fraudsters move to a new tactic over a window: P(fraud | x) moves, x barely does",
    "seasonal": "an expected holiday season: volume, amounts and gift categories surge",
    "new_category": "a product/merchant category never seen before appears",
    "data_quality": "a pipeline bug: amount written in cents (variant 'unit') or a null spike ('nulls')",
    "new_items": "a surge of new items in the catalogue: browsing moves to items older models never saw",
    "trend_shift": "a product category becomes hot in browsing sessions",
    "language_mix": "texts: the language mix moves towards Polish, Italian and Dutch (needs texts)",
    "new_slang": "texts: a new slang term spreads in titles, reviews and queries (needs texts)",
}
