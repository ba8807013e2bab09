"""The LLM server's chat page (``GET /``): one self-contained HTML file, no CDN, no build step.

It asks ``GET /v1/models`` which models are served (a base model and its adapters: the user picks
one), sends the whole conversation to ``POST /v1/chat/completions`` with ``"stream": true``, and
writes the answer as its server-sent events arrive (``fetch`` with a ``ReadableStream``; text is set
with ``textContent``, never parsed as HTML). It shows the time to the first token and the tokens per
second after it. **Stop** aborts the request: the connection closes, and the server frees the
answer's slot at once. The part of an answer written before Stop stays in the conversation.
"""

CHAT_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Course LLM chat</title>
<link rel="icon" href="data:,">
<style>
  body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 1rem auto; padding: 0 1rem; }
  #log { border: 1px solid #ccc; border-radius: 6px; padding: .5rem; min-height: 12rem; }
  .turn { margin: .4rem 0; white-space: pre-wrap; }
  .user { color: #0b4f8a; }
  .assistant { color: #222; }
  .role { font-weight: bold; margin-right: .3rem; }
  form { display: flex; gap: .5rem; margin-top: .6rem; }
  #question { flex: 1; padding: .4rem; }
  #status { color: #555; font-size: .9rem; margin-top: .4rem; min-height: 1.2rem; }
</style>
</head>
<body>
<h1>Course LLM chat</h1>
<p>Model: <select id="model" aria-label="Model"></select>. Answers stream from
<code>/v1/chat/completions</code>; <b>Stop</b> ends one and frees its slot on the server.</p>
<div id="log" aria-live="polite"></div>
<form id="ask">
  <input id="question" autocomplete="off" placeholder="Ask something" aria-label="Your question">
  <button id="send" type="submit">Send</button>
  <button id="stop" type="button" disabled>Stop</button>
  <button id="clear" type="button">New chat</button>
</form>
<div id="status"></div>
<script>
"use strict";
const log = document.getElementById("log");
const question = document.getElementById("question");
const send = document.getElementById("send");
const stop = document.getElementById("stop");
const status = document.getElementById("status");
let model = null;
let messages = [];
let controller = null;

const choice = document.getElementById("model");
fetch("/v1/models").then(r => r.json()).then(list => {
  for (const card of list.data) choice.add(new Option(card.id, card.id));
  model = choice.value;
}).catch(() => { status.textContent = "The server did not say which model it serves."; });
choice.addEventListener("change", () => { model = choice.value; });

function addTurn(role, text) {
  const turn = document.createElement("div");
  turn.className = "turn " + role;
  const label = document.createElement("span");
  label.className = "role";
  label.textContent = role === "user" ? "You:" : "Model:";
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  turn.append(label, body);
  log.append(turn);
  return body;
}

function busy(running) {
  send.disabled = running;
  stop.disabled = !running;
}

async function ask(text) {
  messages.push({role: "user", content: text});
  addTurn("user", text);
  const answer = addTurn("assistant", "");
  answer.parentElement.dataset.state = "streaming";
  controller = new AbortController();
  busy(true);
  const sent = performance.now();
  let firstAt = null, pieces = 0, ending = "stop";
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({model: model, messages: messages, stream: true}),
      signal: controller.signal,
    });
    if (!response.ok) {
      const error = await response.json().catch(() => ({error: {message: response.statusText}}));
      throw new Error(error.error.message);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      const events = buffer.split("\\n\\n");
      buffer = events.pop();
      for (const event of events) {
        const data = event.replace(/^data: /, "");
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const choice = chunk.choices[0];
        if (choice.finish_reason) ending = choice.finish_reason;
        const piece = choice.delta.content;
        if (piece) {
          firstAt = firstAt ?? performance.now();
          pieces += 1;
          answer.textContent += piece;
          const seconds = (performance.now() - firstAt) / 1000;
          status.textContent = "first token after " + ((firstAt - sent) / 1000).toFixed(2) + " s" +
            (pieces > 1 ? ", " + ((pieces - 1) / seconds).toFixed(1) + " tokens/s" : "");
        }
      }
    }
  } catch (error) {
    if (error.name === "AbortError") {
      ending = "stopped";
    } else {
      ending = "error";
      status.textContent = "Error: " + error.message;
    }
  }
  messages.push({role: "assistant", content: answer.textContent});
  answer.parentElement.dataset.state = ending;
  controller = null;
  busy(false);
  question.focus();
}

document.getElementById("ask").addEventListener("submit", event => {
  event.preventDefault();
  const text = question.value.trim();
  if (!text || controller || !model) return;
  question.value = "";
  ask(text);
});
stop.addEventListener("click", () => { if (controller) controller.abort(); });
document.getElementById("clear").addEventListener("click", () => {
  if (controller) controller.abort();
  messages = [];
  log.replaceChildren();
  status.textContent = "";
});
</script>
</body>
</html>
"""
