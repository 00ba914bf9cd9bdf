"""Text folded for search: no case, no accents, no punctuation ("Éloïse D'Alembert" is
"eloise d alembert"), the same function for what is stored and for what a person types, so
SQLite and PostgreSQL compare the same strings."""

from django.db import models

from .places import folded


def fold(text: str) -> str:
    return folded(text or "")


class FoldedField(models.CharField):
    """A read-only copy of other fields of the row, folded. Computed in ``pre_save``, which
    ``save()`` and ``bulk_create()`` both call, so no writer can forget it."""

    def __init__(self, *args, sources: tuple[str, ...] = (), **kwargs):
        self.sources = tuple(sources)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["sources"] = self.sources
        for key, value in (("editable", False), ("blank", True), ("default", "")):
            if kwargs.get(key) == value:
                del kwargs[key]
        return name, path, args, kwargs

    def value_for(self, instance) -> str:
        text = " ".join(str(getattr(instance, source) or "") for source in self.sources)
        return fold(text)[: self.max_length]

    def pre_save(self, model_instance, add):
        value = self.value_for(model_instance)
        setattr(model_instance, self.attname, value)
        return value
