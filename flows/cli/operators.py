"""`deskwatch operators setup`: Prefect tells the operators when a poll run fails or crashes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, cast
from uuid import UUID

from flows.settings import load_settings
from flows.wiring import resolve_secrets

if TYPE_CHECKING:
    from prefect.events.schemas.automations import AutomationCore

BLOCK_NAME = "deskwatch-operators"
AUTOMATION_NAME = "deskwatch: a poll run failed or crashed"
# The flows whose failure the operators hear of: both poll deployments run `poll-sources`.
WATCHED_FLOWS = ["poll-sources", "source-health"]
FAILED_EVENTS = {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}

SUBJECT = "deskwatch: {{ flow.name }} run {{ flow_run.name }} is {{ flow_run.state.name }}"
BODY = (
    "Flow run {{ flow.name }}/{{ flow_run.name }} entered {{ flow_run.state.name }}"
    "{% if deployment %} (deployment {{ deployment.name }}){% endif %}.\n"
    "{{ flow_run.state.message or '' }}\n"
    "Sources and their errors: `deskwatch sources list`."
)


def setup_operators() -> int:
    """Save the operators' webhook block and create (or update) the failure automation."""
    settings = resolve_secrets(load_settings())
    if settings.operator_webhook_url is None:
        print("operators: DESKWATCH_OPERATOR_WEBHOOK_URL is not set; no automation created")
        return 0
    block_id = save_webhook_block(settings.operator_webhook_url.get_secret_value())
    automation_id = upsert_automation(failure_automation(block_id))
    print(f"operators: block {BLOCK_NAME!r} saved")
    print(f"operators: automation {AUTOMATION_NAME!r} ({automation_id})")
    return 0


def save_webhook_block(url: str) -> UUID:
    """Save (or overwrite) the notification block that POSTs Slack-style JSON to `url`."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    # The URL is kept among the block's secrets, so the UI shows a placeholder, not the token.
    # This block raises on an HTTP error (unlike the Apprise-based ones), and the server's
    # send-notification action reports that as a failed action rather than dropping it.
    block = CustomWebhookNotificationBlock(
        name=BLOCK_NAME,
        url="{{operator_webhook_url}}",
        json_data={"text": "{{subject}}\n{{body}}"},
        headers=None,
        cookies=None,
        secrets={"operator_webhook_url": url},  # type: ignore[arg-type]  # coerced to SecretDict
    )
    # No event loop runs here: `save` is its blocking form and returns the block's id.
    return cast(UUID, block.save(BLOCK_NAME, overwrite=True))


def failure_automation(block_id: UUID) -> AutomationCore:
    """The automation: a watched flow's run entering Failed or Crashed sends a notification."""
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    trigger = EventTrigger(
        match=ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"}),
        match_related=ResourceSpecification(
            {"prefect.resource.role": "flow", "prefect.resource.name": WATCHED_FLOWS}
        ),
        expect=FAILED_EVENTS,
        for_each={"prefect.resource.id"},  # each failed run is its own notification
        posture=Posture.Reactive,
        threshold=1,
        within=timedelta(0),
    )
    action = SendNotification(block_document_id=block_id, subject=SUBJECT, body=BODY)
    return AutomationCore(
        name=AUTOMATION_NAME,
        description="Tell the operators' channel when a deskwatch poll or health run fails.",
        enabled=True,
        trigger=trigger,
        actions=[action],
    )


def upsert_automation(automation: AutomationCore) -> UUID:
    """Create the automation, or update the one of that name (and drop any duplicates)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        existing = client.read_automations_by_name(automation.name)
        if not existing:
            return client.create_automation(automation)
        keep, *extra = existing
        client.update_automation(keep.id, automation)
        for duplicate in extra:
            client.delete_automation(duplicate.id)
        return keep.id
