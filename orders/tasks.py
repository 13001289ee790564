"""Thin, idempotent tasks of the installation workflow."""

from celery import shared_task


@shared_task(name="orders.tasks.reconcile", ignore_result=True)
def reconcile() -> dict[str, int]:
    """Open the installation order of any hosting service that has none, and start the C3
    clocks whose deadline waited for a working-day calendar year that is known now."""
    from .services import orders_open_missing, orders_start_pending_clocks

    return {"opened": orders_open_missing(), "clocks_started": orders_start_pending_clocks()}
