// Shared by the client-matrix scripts (tests/clients): the relay's address, the
// emulators' admin API, and one JSON report on stdout. The scripts are driven by
// pytest, which passes RELAY_BASE_URL, RELAY_MODEL, RELAY_CASE, RELAY_PROMPT and
// EMULATOR_URLS (comma-separated) in the environment.

const { RELAY_BASE_URL, RELAY_MODEL = "azure", RELAY_CASE = "", RELAY_PROMPT = "Hello", EMULATOR_URLS = "" } =
  process.env;
if (!RELAY_BASE_URL) {
  console.error("RELAY_BASE_URL is required");
  process.exit(2);
}

export const relay = { api: `${RELAY_BASE_URL}/api/v1`, model: RELAY_MODEL, prompt: RELAY_PROMPT };
export const apiKey = "relay-client-key";

/** Script every emulator's next answers ("*" key), so a test can change the answer between two turns. */
export async function scriptEmulators(scenario) {
  for (const url of EMULATOR_URLS.split(",").filter(Boolean)) {
    const answer = await fetch(`${url}/_emulator/scenarios`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: "*", scenario }),
    });
    if (!answer.ok) throw new Error(`scripting ${url} failed: ${answer.status} ${await answer.text()}`);
  }
}

/** The scenarios a test passed for each turn, in order. */
export function turnScenarios() {
  return JSON.parse(process.env.RELAY_TURNS ?? "[]");
}

/** Run the case named by RELAY_CASE and print its report, or the error it raised, as one JSON line. */
export async function runCase(cases) {
  const run = cases[RELAY_CASE];
  if (!run) {
    console.error(`unknown RELAY_CASE ${JSON.stringify(RELAY_CASE)}; one of ${Object.keys(cases).join(", ")}`);
    process.exit(2);
  }
  let report;
  try {
    report = { error: null, ...(await run()) };
  } catch (err) {
    report = {
      error: {
        class: err?.constructor?.name ?? String(err),
        status: err?.status ?? err?.statusCode ?? null,
        message: String(err?.message ?? err),
        body: err?.responseBody ?? null,
      },
    };
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
