"""The words and templates of the shop's texts: product vocabulary per category, review phrases per
return reason, search-query templates per intent, and the markets' languages.

Every list is split in two: the first entries are seen in training, the last ``HELD`` (per category:
nouns and brands; per text type: templates) only in the held-out test split, so that a test score
measures generalisation to new phrasings and products, not template matching. A held-out text always
names a product and brand never seen in training; its attribute, material and size are unseen half the
time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ABBREVIATIONS",
    "AUDIENCES",
    "CATEGORY_VOCAB",
    "COLOURS",
    "DESCRIPTION_TEMPLATES",
    "HELD",
    "INTENTS",
    "LANGUAGES",
    "NEW_LINE",
    "NEW_SLANG",
    "RETURN_REASONS",
    "TITLE_TEMPLATES",
    "TRANSLATIONS",
    "Vocab",
]


#: How many words at the end of each list of a :class:`Vocab` are held out of training.
HELD = {"nouns": 2, "brands": 1, "attrs": 1, "materials": 1, "sizes": 1}


@dataclass(frozen=True)
class Vocab:
    """A category's words; the last ``HELD[field]`` of each list appear only in held-out test texts."""

    nouns: tuple[str, ...]
    brands: tuple[str, ...]
    attrs: tuple[str, ...]
    materials: tuple[str, ...]
    sizes: tuple[str, ...]

    def split(self, field: str, held_out: bool) -> tuple[str, ...]:
        """The training part of a word list, or (``held_out``) the whole list."""
        words: tuple[str, ...] = getattr(self, field)
        return words if held_out else words[: -HELD[field]]


CATEGORY_VOCAB: dict[str, Vocab] = {
    "clothing": Vocab(
        ("t-shirt", "hoodie", "jeans", "dress", "jacket", "sweater", "blouse", "skirt", "cardigan", "parka"),
        ("Nordwind", "Loomera", "Urbanix", "Velora", "Fjordline"),
        ("slim fit", "oversized", "relaxed fit", "cropped", "long sleeve", "v-neck"),
        ("cotton", "linen", "denim", "wool", "polyester", "viscose"),
        ("XS", "S", "M", "L", "XL", "XXL"),
    ),
    "shoes": Vocab(
        ("sneakers", "boots", "sandals", "loafers", "running shoes", "heels", "espadrilles", "clogs"),
        ("Stridex", "Pedalo", "Solemate", "Trekka", "Gaitway"),
        ("waterproof", "lace-up", "slip-on", "cushioned", "non-slip", "wide fit"),
        ("leather", "suede", "canvas", "mesh", "rubber"),
        ("EU 37", "EU 39", "EU 41", "EU 43", "EU 45", "UK 6", "UK 9"),
    ),
    "electronics": Vocab(
        (
            "headphones",
            "smartphone",
            "charger",
            "usb-c cable",
            "power bank",
            "bluetooth speaker",
            "smartwatch",
            "webcam",
            "soundbar",
        ),
        ("Voltix", "Zentro", "Ampora", "Pixelon", "Qubit Labs"),
        ("wireless", "noise cancelling", "fast charging", "4K", "65W", "bluetooth 5.3"),
        ("aluminium", "plastic", "silicone"),
        ("10000mAh", "1m", "2m", "128GB", "256GB"),
    ),
    "home": Vocab(
        (
            "bedding set",
            "cushion cover",
            "curtains",
            "bath towel",
            "vase",
            "scented candle",
            "table lamp",
            "duvet",
            "doormat",
        ),
        ("Casalto", "Hygga", "Lumenhaus", "Domio", "Nestwell"),
        ("machine washable", "blackout", "handmade", "decorative", "anti-slip"),
        ("cotton", "linen", "ceramic", "glass", "bamboo", "velvet"),
        ("140x200", "50x50", "40x40", "155x220"),
    ),
    "beauty": Vocab(
        (
            "moisturiser",
            "shampoo",
            "lipstick",
            "face serum",
            "mascara",
            "sunscreen",
            "perfume",
            "eyeliner",
            "toner",
        ),
        ("Glowa", "Purelle", "Dermique", "Rosalba", "Auralis"),
        ("vegan", "fragrance-free", "SPF 50", "hydrating", "for dry skin", "long-lasting"),
        ("hyaluronic acid", "aloe vera", "argan oil", "vitamin C", "shea butter"),
        ("30ml", "50ml", "100ml", "250ml"),
    ),
    "toys": Vocab(
        ("building blocks", "plush bear", "puzzle", "toy car", "doll", "board game", "kite", "marble run"),
        ("Toybox", "Brixo", "Fablo", "Kiddora", "Tumbly"),
        ("for ages 3+", "educational", "battery-powered", "remote control", "for kids"),
        ("wood", "plastic", "plush"),
        ("500 pieces", "1000 pieces", "30 cm", "set of 6"),
    ),
    "sports": Vocab(
        (
            "yoga mat",
            "dumbbells",
            "resistance bands",
            "football",
            "tennis racket",
            "cycling helmet",
            "kettlebell",
            "foam roller",
        ),
        ("Athlon", "Kinetix", "Peakform", "Velox", "Sprintr"),
        ("non-slip", "adjustable", "lightweight", "professional", "breathable"),
        ("neoprene", "carbon", "TPE", "steel"),
        ("5kg", "10kg", "6mm", "750ml"),
    ),
    "books": Vocab(
        (
            "novel",
            "cookbook",
            "children's book",
            "biography",
            "travel guide",
            "thriller",
            "poetry collection",
            "atlas",
        ),
        ("Penwright Press", "Inkwell", "Folio House", "Maple Books", "Quillhaven"),
        ("paperback", "hardcover", "illustrated", "bestseller", "2nd edition", "signed"),
        ("paper", "recycled paper"),
        ("128 pages", "320 pages", "480 pages"),
    ),
    "jewelry": Vocab(
        ("necklace", "ring", "earrings", "bracelet", "pendant", "watch", "brooch", "cufflinks"),
        ("Aurelia", "Lumina", "Sterlo", "Gemma", "Orafina"),
        ("adjustable", "handmade", "minimalist", "engraved", "hypoallergenic"),
        ("sterling silver", "18k gold plated", "rose gold", "pearl", "stainless steel"),
        ("45cm", "50cm", "size 54", "2mm"),
    ),
    "furniture": Vocab(
        (
            "sofa",
            "office chair",
            "bookshelf",
            "coffee table",
            "wardrobe",
            "bed frame",
            "nightstand",
            "bar stool",
        ),
        ("Holzberg", "Sitta", "Modulo", "Ekstra", "Fjellbo"),
        ("assembly required", "extendable", "ergonomic", "foldable", "3-seater"),
        ("oak", "walnut", "pine", "metal", "velvet", "rattan"),
        ("120x60", "160x200", "80 cm", "2-door"),
    ),
}
#: The product line that opens in the ``new_category`` scenario (never in the base catalogue).
NEW_LINE = (
    "pet_supplies",
    Vocab(
        ("dog bed", "cat tree", "leash", "pet bowl", "litter box", "chew toy", "dog harness", "bird cage"),
        ("Pawly", "Whiskerz", "Fetchr"),
        ("washable", "orthopaedic", "for large dogs", "scratch-resistant"),
        ("nylon", "plush", "stainless steel", "sisal"),
        ("S", "M", "L", "60 cm"),
    ),
)
#: The slang term that spreads in the ``new_slang`` scenario (with its emoji, unknown to the tokenizer).
NEW_SLANG = ("glowcore", "✨")

COLOURS = ("red", "black", "white", "blue", "green", "grey", "pink", "beige", "brown", "yellow")
AUDIENCES = ("women", "men", "kids", "unisex")

# templates: the last one of each list (titles: the last two) is held out of training
TITLE_TEMPLATES = (
    "{brand} {noun} {attr} {colour} {size}",
    "{noun} for {audience} - {material}, {colour}",
    "{brand} {material} {noun}, {attr}",
    "{colour} {noun} {size} | {brand}",
    "new {brand} {noun} ({colour}, {size})",
    "{attr} {noun} {material} {colour}",
    "{audience} {noun} by {brand} in {colour} - {attr}",
    "{noun} · {brand} · {material} · {size}",
)
DESCRIPTION_TEMPLATES = (
    "Made of {material}. {attr2}. Available in {colour}.",
    "This {noun} from {brand} is {attr}. Size {size}.",
    "{brand}: {attr}, {attr2}, {material}.",
    "Perfect {noun} for everyday use - {attr}, {material}, colour {colour}.",
)
RETURN_REASONS: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {  # reason -> (rating range, templates)
    "kept": (
        (4, 5),
        (
            "Great {noun}, quality is excellent. Would buy again.",
            "Love it! The {colour} colour looks exactly like the photos.",
            "Fits perfectly, very happy with my {noun}.",
            "Five stars, the {noun} does exactly what it should.",
        ),
    ),
    "too_small": (
        (2, 4),
        (
            "The {noun} is too small, had to send it back.",
            "Runs small - order one size up. Returned.",
            "Way too tight, returned it.",
            "Size {size} was much smaller than expected, returning it.",
        ),
    ),
    "too_large": (
        (2, 4),
        (
            "Too big for me, returned it.",
            "Runs large, the {noun} was huge.",
            "Way too loose, sent it back for a smaller size.",
            "Had to return it, size {size} fits like two sizes bigger.",
        ),
    ),
    "defective": (
        (1, 2),
        (
            "Arrived broken, the {noun} does not work.",
            "Stopped working after two days. Returned.",
            "The zip broke on first use, returned.",
            "Faulty item: the {noun} was cracked out of the box.",
        ),
    ),
    "not_as_described": (
        (1, 3),
        (
            "The colour is nothing like the picture.",
            "Material feels cheap, not {material} as described.",
            "Looks completely different from the listing, returned.",
            "The description says {attr} but it is not at all.",
        ),
    ),
    "late_delivery": (
        (1, 3),
        (
            "Arrived two weeks late, returned it.",
            "Delivery took forever, no longer needed it.",
            "The parcel came long after the promised date.",
            "Shipping was so slow that I sent the {noun} back.",
        ),
    ),
    "changed_mind": (
        (3, 4),
        (
            "Changed my mind, nothing wrong with it.",
            "Ordered two, kept the other one and returned this.",
            "Did not need it after all, returned.",
            "Decided I prefer a different style, sent back the {noun}.",
        ),
    ),
}
INTENTS: dict[str, tuple[str, ...]] = {
    "product_search": (
        "{colour} {noun}",
        "{brand} {noun} {size}",
        "{noun} {material}",
        "{noun} for {audience} {colour}",
    ),
    "order_status": (
        "where is my order",
        "track order {num}",
        "order {num} not arrived",
        "delivery status {num}",
    ),
    "return_request": (
        "how to return {noun}",
        "return label",
        "refund for order {num}",
        "exchange {noun} for other size",
    ),
    "size_help": (
        "{brand} size chart",
        "does the {noun} run small",
        "{noun} size guide",
        "fit advice {noun} {size}",
    ),
    "deals": ("{noun} sale", "discount code", "cheap {noun}", "black friday {noun} deals"),
    "account_help": ("reset password", "change delivery address", "delete my account", "cannot log in"),
}

#: The languages of the shop's markets (DE, FR, GB, NL, ES, IT, PL) and their traffic weights.
LANGUAGES: dict[str, float] = {
    "de": 0.30,
    "fr": 0.20,
    "en": 0.15,
    "nl": 0.10,
    "es": 0.10,
    "it": 0.10,
    "pl": 0.05,
}
_WORDS = (
    "red black white blue green grey pink beige brown yellow "
    "women men kids with new size for cheap sale "
    "order return where quality great broken late small big delivery"
)
_TR = {
    "de": (
        "rot schwarz weiß blau grün grau rosa beige braun gelb "
        "Damen Herren Kinder mit neu Größe für günstig Angebot "
        "Bestellung Rücksendung wo Qualität super kaputt spät klein groß Lieferung"
    ),
    "fr": (
        "rouge noir blanc bleu vert gris rose beige marron jaune "
        "femme homme enfant avec nouveau taille pour pas-cher soldes "
        "commande retour où qualité génial cassé retard petit grand livraison"
    ),
    "nl": (
        "rood zwart wit blauw groen grijs roze beige bruin geel "
        "dames heren kinderen met nieuw maat voor goedkoop uitverkoop "
        "bestelling retour waar kwaliteit geweldig kapot laat klein groot levering"
    ),
    "es": (
        "rojo negro blanco azul verde gris rosa beige marrón amarillo "
        "mujer hombre niños con nuevo talla para barato rebajas "
        "pedido devolución dónde calidad genial roto tarde pequeño grande entrega"
    ),
    "it": (
        "rosso nero bianco blu verde grigio rosa beige marrone giallo "
        "donna uomo bambini con nuovo taglia per economico saldi "
        "ordine reso dove qualità ottimo rotto ritardo piccolo grande consegna"
    ),
    "pl": (
        "czerwony czarny biały niebieski zielony szary różowy beżowy brązowy żółty "
        "damski męski dziecięcy z nowy rozmiar dla tani wyprzedaż "
        "zamówienie zwrot gdzie jakość świetny zepsuty późno mały duży dostawa"
    ),
}
#: language -> English word -> the market's word (the words that get mixed into a text).
TRANSLATIONS: dict[str, dict[str, str]] = {
    lang: dict(zip(_WORDS.split(), words.split(), strict=True)) for lang, words in _TR.items()
}
#: Shop-floor abbreviations (applied to a share of the occurrences).
ABBREVIATIONS = {
    "with": "w/",
    "black": "blk",
    "size": "sz",
    "women": "wmn",
    "pieces": "pcs",
    "professional": "pro",
    "waterproof": "wp",
    "bluetooth": "bt",
    "adjustable": "adj",
    "order": "ord",
    "white": "wht",
}
