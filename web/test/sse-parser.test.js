// Unit tests for SSEParser against the WHATWG "event stream interpretation" rules.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { SSEParser } from "../relay-client.js";

const enc = new TextEncoder();

/** Feeds the pieces in order, then ends the stream; returns all dispatched events. */
function parse(...pieces) {
  const p = new SSEParser();
  const out = [];
  for (const piece of pieces) out.push(...p.feed(piece));
  out.push(...p.end());
  return out;
}
/** Just [type, data] pairs. */
const td = (events) => events.map((e) => [e.type, e.data]);
const datas = (events) => events.map((e) => e.data);

describe("fields", () => {
  test("data field, default type 'message'", () => {
    assert.deepEqual(parse("data: hello\n\n"), [{ type: "message", data: "hello", lastEventId: "" }]);
  });

  test("multi-line data is joined with LF (spec YHOO example)", () => {
    assert.deepEqual(datas(parse("data: YHOO\ndata: +2\ndata: 10\n\n")), ["YHOO\n+2\n10"]);
  });

  test("event field sets the type and is reset after dispatch", () => {
    assert.deepEqual(td(parse("event: add\ndata: 73857293\n\ndata: x\n\n")), [["add", "73857293"], ["message", "x"]]);
  });

  test("only one leading space is stripped; no space is fine", () => {
    assert.deepEqual(datas(parse("data:test\n\ndata: test\n\ndata:  third\n\n")), ["test", "test", " third"]);
  });

  test("tab after the colon is kept", () => {
    assert.deepEqual(datas(parse("data:\tx\n\n")), ["\tx"]);
  });

  test("value keeps later colons", () => {
    assert.deepEqual(td(parse("event: a:b\ndata: {\"k\": \"v:w\"}\n\n")), [["a:b", '{"k": "v:w"}']]);
  });

  test("line without colon is a field name with empty value (spec example)", () => {
    // "data\n\n" → one empty-string event; "data\ndata\n\n" → "\n"; trailing "data:" never terminated.
    assert.deepEqual(datas(parse("data\n\ndata\ndata\n\ndata:")), ["", "\n"]);
  });

  test("'data:' with empty value dispatches an empty-string event", () => {
    assert.deepEqual(td(parse("event: ping\ndata:\n\n")), [["ping", ""]]);
  });

  test("no data field → no dispatch, and the event type is reset", () => {
    assert.deepEqual(td(parse("event: foo\n\ndata: x\n\n")), [["message", "x"]]);
    assert.deepEqual(parse("event: only\n\n\n\n"), []);
  });

  test("field names are case-sensitive; unknown fields are ignored", () => {
    assert.deepEqual(parse("Data: x\nDATA: y\n\n"), []);
    assert.deepEqual(datas(parse("foo: bar\ndata: z\nbaz\n\n")), ["z"]);
  });

  test("event: with empty value falls back to 'message'", () => {
    assert.deepEqual(td(parse("event:\ndata: x\n\n")), [["message", "x"]]);
  });

  test("data with spaces only", () => {
    assert.deepEqual(datas(parse("data:   \n\n")), ["  "]);
  });
});

describe("id and retry", () => {
  test("spec example: id persists, bare 'id' resets it", () => {
    const ev = parse(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n");
    assert.deepEqual(ev.map((e) => [e.data, e.lastEventId]), [
      ["first event", "1"],
      ["second event", ""],
      [" third event", ""],
    ]);
  });

  test("id carries over to later events and is exposed on the parser", () => {
    const p = new SSEParser();
    const ev = p.feed("id: 5\ndata: a\n\ndata: b\n\n");
    assert.deepEqual(ev.map((e) => e.lastEventId), ["5", "5"]);
    assert.equal(p.lastEventId, "5");
  });

  test("id in a block with no data still updates the last event ID", () => {
    const p = new SSEParser();
    assert.deepEqual(p.feed("id: 7\n\n"), []);
    assert.equal(p.lastEventId, "7");
    assert.equal(p.feed("data: b\n\n")[0].lastEventId, "7");
  });

  test("id takes effect only at dispatch", () => {
    const p = new SSEParser();
    p.feed("id: 9\ndata: x\n");
    assert.equal(p.lastEventId, "");
    p.feed("\n");
    assert.equal(p.lastEventId, "9");
  });

  test("id containing NUL is ignored", () => {
    const ev = parse("id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n");
    assert.deepEqual(ev.map((e) => e.lastEventId), ["1", "1"]);
  });

  test("retry: ASCII digits only", () => {
    const p = new SSEParser();
    p.feed("retry: 1500\n\n");
    assert.equal(p.retry, 1500);
    for (const bad of ["retry: 15a\n", "retry: -1\n", "retry: 1.5\n", "retry:\n", "retry:  20\n", "retry: ２\n"]) {
      p.feed(bad);
      assert.equal(p.retry, 1500, JSON.stringify(bad));
    }
    p.feed("retry:0\n");
    assert.equal(p.retry, 0);
    assert.deepEqual(p.feed("\n"), [], "retry alone dispatches nothing");
  });
});

describe("comments", () => {
  test("comment lines and heartbeats are ignored", () => {
    assert.deepEqual(datas(parse(": keep-alive\n\n:\n\ndata: a\n: inside an event\ndata: b\n\n: keep-alive\n\n")), ["a\nb"]);
  });

  test("a comment does not end an event", () => {
    assert.deepEqual(td(parse("event: x\n: hi\ndata: 1\n\n")), [["x", "1"]]);
  });
});

describe("line endings", () => {
  test("CRLF", () => {
    assert.deepEqual(td(parse("event: e\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n")), [["e", "a\nb"], ["message", "c"]]);
  });

  test("CR only", () => {
    assert.deepEqual(td(parse("event: e\rdata: a\rdata: b\r\rdata: c\r\r")), [["e", "a\nb"], ["message", "c"]]);
  });

  test("mixed endings; LF-CR is two line ends", () => {
    assert.deepEqual(datas(parse("data: a\r\ndata: b\rdata: c\n\r")), ["a\nb\nc"]);
    assert.deepEqual(datas(parse("data: a\r\n\ndata: b\n\r\n")), ["a", "b"]);
  });

  test("CR at the end of one read and LF at the start of the next is ONE line end", () => {
    // If the LF were taken as a second line end, "a" would be dispatched alone.
    assert.deepEqual(datas(parse("data: a\r", "\ndata: b\r\n\r\n")), ["a\nb"]);
  });

  test("CR / empty reads / LF still joins", () => {
    assert.deepEqual(datas(parse("data: a\r", "", "", "\ndata: b\n\n")), ["a\nb"]);
    assert.deepEqual(datas(parse(enc.encode("data: a\r"), new Uint8Array(0), enc.encode("\ndata: b\n\n"))), ["a\nb"]);
  });

  test("CR ending a read, CR starting the next: a blank line, dispatch", () => {
    assert.deepEqual(datas(parse("data: a\r", "\rdata: b\r\r")), ["a", "b"]);
  });

  test("CR at read end dispatches at once (no waiting for the next read)", () => {
    const p = new SSEParser();
    assert.deepEqual(datas(p.feed("data: a\r\r")), ["a"]);
    assert.deepEqual(datas(p.feed("data: b\r\n\r")), ["b"]);
    assert.deepEqual(datas(p.feed("\ndata: c\n\n")), ["c"], "LF after the final CR is skipped, not a blank line");
  });

  test("only the LF right after the CR is skipped", () => {
    assert.deepEqual(datas(parse("data: a\r", "\n\ndata: b\n\n")), ["a", "b"]);
  });
});

describe("reads and splits", () => {
  test("several events in one read", () => {
    const p = new SSEParser();
    assert.deepEqual(td(p.feed("event: a\ndata: 1\n\nevent: b\ndata: 2\n\ndata: 3\n\n")), [["a", "1"], ["b", "2"], ["message", "3"]]);
  });

  test("an event split across reads dispatches only when complete", () => {
    const p = new SSEParser();
    assert.deepEqual(p.feed("eve"), []);
    assert.deepEqual(p.feed("nt: x\nda"), []);
    assert.deepEqual(p.feed("ta: hel"), []);
    assert.deepEqual(p.feed("lo\n"), []);
    assert.deepEqual(td(p.feed("\n")), [["x", "hello"]]);
  });

  test("every two-way split of a sample gives the same events", () => {
    const s = ": hb\r\nevent: t\ndata: 一\r\ndata: 二\r\rid: 3\ndata:x\n\nretry: 10\r\n\r\ndata: 🎉\n\n";
    const whole = parse(s);
    assert.equal(whole.length, 3);
    for (let i = 0; i <= s.length; i++) {
      assert.deepEqual(parse(s.slice(0, i), s.slice(i)), whole, `split at ${i}`);
    }
  });

  test("one character at a time", () => {
    const s = "event: t\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\r";
    assert.deepEqual(parse(...s), parse(s));
    assert.deepEqual(td(parse(...s)), [["t", "a\nb"], ["message", "c"]]);
  });

  test("a long line arriving in many small reads", () => {
    const long = "x".repeat(50_000);
    const p = new SSEParser();
    const out = [];
    for (let i = 0; i < long.length; i += 7) out.push(...p.feed((i === 0 ? "data: " : "") + long.slice(i, i + 7)));
    out.push(...p.feed("\n\n"));
    assert.deepEqual(datas(out), [long]);
  });
});

describe("UTF-8 bytes", () => {
  test("a 3-byte char split across reads, every cut", () => {
    const bytes = enc.encode('data: {"content":"日本語"}\n\n');
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j += 1) {
        const ev = parse(bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j));
        assert.deepEqual(datas(ev), ['{"content":"日本語"}'], `cuts ${i},${j}`);
      }
    }
  });

  test("a 4-byte emoji fed one byte at a time", () => {
    const bytes = enc.encode("data: 🚀👨‍👩‍👧\n\n");
    const pieces = [...bytes].map((b) => Uint8Array.of(b));
    assert.deepEqual(datas(parse(...pieces)), ["🚀👨‍👩‍👧"]);
  });

  test("invalid UTF-8 becomes U+FFFD (spec: UTF-8 decode)", () => {
    assert.deepEqual(datas(parse(Uint8Array.of(0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a))), ["\ufffd"]);
  });

  test("a partial char pending at end() does not leak into the next stream", () => {
    const p = new SSEParser();
    assert.deepEqual(p.feed(enc.encode("data: 日").subarray(0, 8)), []); // 2 of 日's 3 bytes
    p.end();
    assert.deepEqual(datas(p.feed(enc.encode("data: x\n\n"))), ["x"]);
  });
});

describe("BOM", () => {
  test("one leading BOM is ignored (text)", () => {
    assert.deepEqual(td(parse("\uFEFFdata: a\n\n")), [["message", "a"]]);
  });

  test("leading BOM in bytes, split across reads", () => {
    const b = enc.encode("\uFEFFevent: e\ndata: a\n\n");
    assert.deepEqual(td(parse(b.subarray(0, 1), b.subarray(1, 2), b.subarray(2))), [["e", "a"]]);
    assert.deepEqual(td(parse(new Uint8Array(0), b)), [["e", "a"]]);
  });

  test("only ONE BOM is stripped: a second one makes the field name unknown", () => {
    assert.deepEqual(parse("\uFEFF\uFEFFdata: a\n\n"), []);
    assert.deepEqual(parse(enc.encode("\uFEFF\uFEFFdata: a\n\n")), []);
  });

  test("a BOM later in the stream is data, not stripped", () => {
    assert.deepEqual(datas(parse("data: a\n\n", "\uFEFFdata: b\n\ndata: \uFEFFc\n\n")), ["a", "\uFEFFc"]);
  });
});

describe("end of stream", () => {
  test("an unterminated final event is not dispatched", () => {
    assert.deepEqual(datas(parse("data: a\n\ndata: b")), ["a"]);
    assert.deepEqual(datas(parse("data: a\n\ndata: b\n")), ["a"]);
    assert.deepEqual(datas(parse("data: a\n\ndata: b\r\n")), ["a"]);
    assert.deepEqual(datas(parse("data: a\r\n\r\nevent: x\r\ndata: b\r")), ["a"]);
  });

  test("end() discards an unterminated line", () => {
    const p = new SSEParser();
    p.feed("data: partial");
    p.end();
    assert.deepEqual(datas(p.feed("\n\ndata: fresh\n\n")), ["fresh"]);
  });

  test("end() discards pending state; the parser can read a new stream", () => {
    const p = new SSEParser();
    p.feed("event: stale\ndata: partial\n");
    assert.deepEqual(p.end(), []);
    assert.deepEqual(td(p.feed("\uFEFFdata: fresh\n\n")), [["message", "fresh"]]);
  });
});
