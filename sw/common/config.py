"""What every engine's config dataclass shares: JSON loading with unknown-key errors, serialisation, digest.

An engine config is a frozen dataclass whose fields are its JSON keys; it validates its values in
``__post_init__`` (messages name the key and use :func:`allowed` for the allowed values) and derives widths in
properties. Mixing in :class:`EngineConfig` gives it ``from_dict``, ``load``, ``to_dict`` and ``digest``.
"""

import dataclasses
import hashlib
import json
from typing import ClassVar

__all__ = ["EngineConfig", "allowed"]


def allowed(values) -> str:
    """Human-readable list of allowed values: ``"1..8"`` for a range, JSON spellings otherwise."""
    if isinstance(values, range):
        return f"{values.start}..{values.stop - 1}"
    return ", ".join(json.dumps(v) if isinstance(v, (bool, str)) or v is None else str(v) for v in values)


class EngineConfig:
    """Mixin for an engine's frozen config dataclass.

    Attributes
    ----------
    ENGINE : str
        Engine name used in error messages, e.g. ``"RBE"``.
    """

    ENGINE: ClassVar[str] = "engine"

    @classmethod
    def keys(cls) -> list[str]:
        """The JSON keys the config accepts (its dataclass fields)."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, d: dict):
        """Config from a JSON object; missing keys take their defaults.

        Raises
        ------
        ValueError
            If ``d`` is not an object, has an unknown key (the message lists the allowed keys) or a bad value.
        """
        if not isinstance(d, dict):
            raise ValueError(f"a {cls.ENGINE} config must be a JSON object, not {type(d).__name__}")
        keys = cls.keys()
        for key in d:
            if key not in keys:
                raise ValueError(f"unknown {cls.ENGINE} config key {key!r}; allowed keys: {', '.join(keys)}")
        try:
            return cls(**d)
        except TypeError as e:       # a value of the wrong type reaching a comparison in the validation
            raise ValueError(f"{cls.ENGINE} config: {e}") from None

    @classmethod
    def load(cls, path):
        """Config from a JSON file; ``ValueError`` naming the file if it is not a JSON object."""
        from sw.common.contract import read_json
        return cls.from_dict(read_json(path, f"{cls.ENGINE} config"))

    def check_int_choices(self, table: dict):
        """Raise ``ValueError`` naming the first key whose value is not an int among its allowed values.

        ``table`` maps key -> (default, allowed values).
        """
        for key, (_, choices) in table.items():
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value not in choices:
                raise ValueError(f"{key} must be one of {allowed(choices)}, not {value!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """12 hex digits identifying the configuration (sorted-key JSON, SHA-256)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
