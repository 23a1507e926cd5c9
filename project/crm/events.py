"""The scheduler events the CRM sends from its own model saves.

``crm.opportunity.won``: an opportunity became won (payload: opportunity,
title, amount, owner, contact). Listen with an EVENT task of that name.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from scheduler_app.events import became, emit_on

OPPORTUNITY_WON = "crm.opportunity.won"


def won_payload(instance: Any, **kwargs: Any) -> dict[str, Any]:
    return {
        "opportunity": instance.pk,
        "title": instance.title,
        "amount": str(instance.amount),
        "owner": instance.owner_id,
        "contact": instance.contact_id,
    }


def connect() -> None:
    from project.crm.models import Opportunity, OpportunityStage

    emit_on(
        Opportunity,
        post_save,
        OPPORTUNITY_WON,
        when=became("stage", OpportunityStage.WON),
        payload=won_payload,
        dispatch_uid="crm.opportunity.won",
    )
