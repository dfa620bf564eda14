"""Vault's weak typing of request fields: how a JSON value becomes a string,
int, bool, duration, list or map, as Vault's framework converts it, and Go
duration strings such as "1h30m"."""

import re


class FieldError(ValueError):
    """A value that cannot be converted to the field's type."""


_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_UNIT_SECONDS = {
    "ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3,
    "s": 1, "m": 60, "h": 3600, "d": 86400,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h|d)")


def parse_duration(value):
    """Seconds from an int, a numeric string or a Go duration string."""
    if isinstance(value, bool):
        raise FieldError("cannot parse a bool as a duration")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        raise FieldError("invalid duration %r" % (value,))
    text = value.strip()
    if text == "":
        return 0
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    return _parse_go_duration(text)


def _parse_go_duration(text):
    sign = 1
    if text[0] in "+-":
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    total = 0.0
    pos = 0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if not match:
            raise FieldError('time: invalid duration "%s"' % text)
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos == 0:
        raise FieldError('time: invalid duration "%s"' % text)
    return sign * int(total)


def to_str(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    raise FieldError("expected a string, got %s" % type(value).__name__)


def to_int(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        if value == "":
            return 0
        try:
            return int(value, 0)
        except ValueError:
            raise FieldError(
                'strconv.ParseInt: parsing "%s": invalid syntax' % value)
    raise FieldError("expected an int, got %s" % type(value).__name__)


def to_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        if value == "" or value in _GO_FALSE:
            return False
        if value in _GO_TRUE:
            return True
        raise FieldError(
            'strconv.ParseBool: parsing "%s": invalid syntax' % value)
    raise FieldError("expected a bool, got %s" % type(value).__name__)


def to_slice(value):
    return value if isinstance(value, list) else [value]


def to_comma_slice(value):
    """A list of strings, from a list or a comma-separated string."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list):
        items = [to_str(item) for item in value]
    else:
        items = [to_str(value)]
    return [item.strip() for item in items if item.strip()]


def to_map(value):
    if isinstance(value, dict):
        return value
    raise FieldError("expected a map, got %s" % type(value).__name__)


def to_kv_pairs(value):
    """A map of strings, from a map or a list of "key=value" strings."""
    if isinstance(value, dict):
        return {str(k): to_str(v) for k, v in value.items()}
    if isinstance(value, list):
        pairs = {}
        for item in value:
            key, sep, val = to_str(item).partition("=")
            if not sep:
                raise FieldError("invalid key value pair %r" % item)
            pairs[key] = val
        return pairs
    raise FieldError("expected a map, got %s" % type(value).__name__)


CONVERTERS = {
    "str": to_str,
    "int": to_int,
    "bool": to_bool,
    "duration": parse_duration,
    "slice": to_slice,
    "comma_slice": to_comma_slice,
    "map": to_map,
    "kv": to_kv_pairs,
}

DEFAULTS = {
    "str": "", "int": 0, "bool": False, "duration": 0,
    "slice": [], "comma_slice": [], "map": {}, "kv": {},
}
