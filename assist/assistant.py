"""What one suggestion request does: embed once, fetch the customer card on a deadline, rank."""

import time

from connectors.card import slot_facts

# A repeat contact the CRM confirms is as certain as the strongest message cue.
REPEAT_CONFIDENCE = 0.95


def crm_situations(card):
    """What the CRM card confirms about the situation ({label: confidence}): a repeat contact."""
    return {"repeat_contact": REPEAT_CONFIDENCE} if (card or {}).get("repeat_contact") else {}


def suggest(services, message, customer_ref=None, conversation=None, channel=None, limit=3, kinds=None,
            agent_name=None):
    """The full /api/v1/suggest response body."""
    started = time.perf_counter()
    engine = services.engine
    vector = engine.embed(message)
    embedded = time.perf_counter()
    card, extra = None, {}
    if customer_ref:
        card = services.context.card(
            customer_ref, message=message, message_vector=vector, conversation=conversation,
            deadline=services.config["CRM_DEADLINE_MS"] / 1000,
        )
        extra = crm_situations(card)
    carded = time.perf_counter()
    facts = slot_facts(card, agent_name=agent_name)
    result = engine.suggest(message, channel=channel, limit=limit, facts=facts, vector=vector,
                            extra_situations=extra, **({"kinds": kinds} if kinds else {}))
    result["customer"] = card
    result["timing_ms"].update(
        embed=round((embedded - started) * 1000, 3),
        customer=round((carded - embedded) * 1000, 3),
        total=round((time.perf_counter() - started) * 1000, 3),
    )
    return result
