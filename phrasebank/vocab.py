"""The fixed vocabularies of the phrase bank: kinds, emotions, situations, channels."""

KINDS = (
    "empathy",
    "apology",
    "ownership",
    "reassurance",
    "active_listening",
    "gratitude",
)

EMOTIONS = (
    "angry",
    "frustrated",
    "anxious",
    "confused",
    "disappointed",
    "sad",
    "grateful",
    "neutral",
)

SITUATIONS = (
    "repeat_contact",
    "service_outage",
    "billing_problem",
    "delivery_problem",
    "cancellation_threat",
    "account_access",
    "product_defect",
    "bereavement",
    "urgent_deadline",
    "praise",
)

CHANNELS = ("chat", "email", "phone")

STATUSES = ("draft", "approved", "retired")

# Emotions for which an apology or sympathy would sound wrong.
POSITIVE_OR_CALM_EMOTIONS = ("grateful", "neutral")
