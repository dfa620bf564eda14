"""Timestamps as Go's encoding/json writes a time.Time (RFC 3339 with
nanoseconds, trailing zeros trimmed), which Vault uses for creation_time,
expire_time and similar fields."""

import datetime


def rfc3339(epoch_seconds):
    moment = datetime.datetime.fromtimestamp(epoch_seconds,
                                             datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"
