"""The marker left by ``manage.py demo``: which demo dataset this database holds.

One row at most. It makes the command idempotent (a second run finds it and adds nothing) and
tells an interrupted run (``completed_at`` still empty) from a finished one.
"""

from django.db import models


class DemoDataset(models.Model):
    seed = models.IntegerField()
    practitioners = models.PositiveIntegerField()
    today = models.DateField(help_text="The date the appointments were generated around.")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "demo dataset"
        verbose_name_plural = "demo datasets"

    def __str__(self) -> str:
        return f"demo seed={self.seed} practitioners={self.practitioners}"
