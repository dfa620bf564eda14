"""A small parser for the HCL that Vault policies are written in: blocks
with string labels, attributes, strings, numbers, bools, lists and objects,
and #, // and /* */ comments. Objects come back as lists of (key, value)
pairs, because a policy may repeat a key (several path blocks)."""

import json
import re

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][\w.-]*)
  | (?P<punct>[{}\[\]=,:])
""", re.VERBOSE | re.DOTALL)


class HCLError(ValueError):
    pass


def parse(text):
    """The top-level body of an HCL document, as (key, value) pairs."""
    parser = _Parser(_tokenize(text))
    body = parser.body(closing=None)
    return body


def _tokenize(text):
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            line = text.count("\n", 0, pos) + 1
            raise HCLError("line %d: unexpected %r" % (line, text[pos]))
        kind = match.lastgroup
        if kind not in ("space", "comment"):
            line = text.count("\n", 0, pos) + 1
            tokens.append((kind, match.group(kind), line))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        if self.pos < len(self.tokens):
            return self.tokens[self.pos]
        return ("eof", "", self.tokens[-1][2] if self.tokens else 1)

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def expect(self, value):
        kind, text, line = self.take()
        if text != value or kind not in ("punct",):
            raise HCLError("line %d: expected %r, found %r"
                           % (line, value, text or "end of input"))

    def body(self, closing):
        """Items up to closing ('}' or end of input), commas optional."""
        items = []
        while True:
            kind, text, line = self.peek()
            if kind == "eof" or (kind == "punct" and text == closing):
                if kind == "eof" and closing is not None:
                    raise HCLError("line %d: missing %r" % (line, closing))
                return items
            items.append(self.item())
            if self.peek()[1] == ",":
                self.take()

    def item(self):
        key = self.key()
        if self.peek()[1] in ("=", ":"):
            self.take()
            return key, self.value()
        labels = []
        while self.peek()[0] in ("string", "ident"):
            labels.append(self.key())
        self.expect("{")
        value = self.body(closing="}")
        self.expect("}")
        for label in reversed(labels):
            value = [(label, value)]
        return key, value

    def key(self):
        kind, text, line = self.take()
        if kind == "string":
            return _unquote(text, line)
        if kind == "ident":
            return text
        raise HCLError("line %d: expected a key, found %r"
                       % (line, text or "end of input"))

    def value(self):
        kind, text, line = self.take()
        if kind == "string":
            return _unquote(text, line)
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "ident" and text in ("true", "false"):
            return text == "true"
        if text == "[":
            return self.list_rest()
        if text == "{":
            value = self.body(closing="}")
            self.expect("}")
            return value
        raise HCLError("line %d: unexpected %r" % (line, text or "end"))

    def list_rest(self):
        values = []
        while self.peek()[1] != "]":
            if self.peek()[0] == "eof":
                raise HCLError("line %d: missing ']'" % self.peek()[2])
            values.append(self.value())
            if self.peek()[1] == ",":
                self.take()
        self.take()
        return values


def _unquote(text, line):
    try:
        return json.loads(text)
    except ValueError:
        raise HCLError("line %d: invalid string %s" % (line, text))


def from_json(value):
    """The same (key, value) pair form from a parsed JSON document."""
    if isinstance(value, dict):
        return [(k, from_json(v)) for k, v in value.items()]
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            # HCL's JSON form writes repeated blocks as a list of objects.
            return [pair for v in value for pair in from_json(v)]
        return [from_json(v) for v in value]
    return value
