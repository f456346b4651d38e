"""The base of every config model: strict, frozen, documented."""

from typing import Annotated

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field


class Strict(BaseModel):
    # populate_by_name: a field with an alias (``imports``, written ``import=`` because import is a keyword) takes
    # either name, so a dumped config (by name) validates again.
    # allow_inf_nan=False: a learning rate, a weight or a temperature of inf or nan is refused where it is set.
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, populate_by_name=True, allow_inf_nan=False
    )


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Imports = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(alias="import", validation_alias=AliasChoices("import", "imports")),
]
"""``import=my_tasks`` (or a list, or a path to a .py file): modules that register the user's own tasks."""
