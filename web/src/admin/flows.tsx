// Contact flows: pick a flow (or start a new one / upload a YAML file), edit it with line numbers, check it
// (every problem listed and marked at its line; a click on one moves the caret there), publish, see the
// versions and roll back, and the flow drawn as SVG from its nodes and arrows (GET /api/flows/{code}/graph).
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Problem } from "../lib/api";
import { t } from "../lib/i18n";
import { ActionsTable, call, Confirm, ProblemText, useList, type S } from "./common";

type Issue = { line: number; column: number; severity: string; message: string; node?: string | null };

const NEW_FLOW = `flowlang: 1
id: nuevo_flujo
start: hola
nodes:
  hola: {type: play, prompt: "tts:Hola", next: fin}
  fin: {type: disconnect}
`;

/** The lines of a text and where each starts (for moving the caret to a line). */
function lineStart(text: string, line: number): number {
  let at = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf("\n", at);
    if (next < 0) return text.length;
    at = next + 1;
  }
  return at;
}

function Editor(p: { value: string; onInput: (v: string) => void; issues: Issue[]; editorRef: { current: HTMLTextAreaElement | null } }) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = p.value.split("\n").length;
  const marks = new Map<number, Issue>();
  for (const i of p.issues) if (!marks.has(i.line) || i.severity === "error") marks.set(i.line, i);
  return (
    <div class="editor">
      <div class="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, n) => {
          const mark = marks.get(n + 1);
          return (
            <div class={mark ? `ln ${mark.severity}` : "ln"} title={mark?.message} data-line={n + 1}>
              {n + 1}
            </div>
          );
        })}
      </div>
      <textarea
        id="flow-source"
        ref={(el) => {
          p.editorRef.current = el;
        }}
        spellcheck={false}
        wrap="off"
        value={p.value}
        onInput={(e) => p.onInput(e.currentTarget.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
      />
    </div>
  );
}

interface Box {
  id: string;
  type: string;
  detail: string;
  start: boolean;
  terminal: boolean;
  reachable: boolean;
}

/** The flow drawn by the page: nodes in layers by their distance from the start, arrows between them. */
export function FlowGraph({ graph }: { graph: S<"FlowGraph"> }) {
  const W = 190;
  const H = 56;
  const GX = 40;
  const GY = 54;
  const depth = new Map<string, number>([[graph.start, 0]]);
  const queue = [graph.start];
  while (queue.length) {
    const at = queue.shift()!;
    for (const e of graph.edges) {
      if (e.source === at && !depth.has(e.target)) {
        depth.set(e.target, depth.get(at)! + 1);
        queue.push(e.target);
      }
    }
  }
  const lastLayer = Math.max(0, ...depth.values()) + 1;
  const layers: Box[][] = [];
  for (const n of graph.nodes as Box[]) {
    const d = depth.get(n.id) ?? lastLayer;
    (layers[d] ??= []).push(n);
  }
  // within a layer, each node near the average position of the nodes above that lead to it (fewer crossings)
  const order = new Map<string, number>();
  layers.forEach((layer, d) => {
    if (!layer) return;
    const weight = (n: Box) => {
      const above = graph.edges.filter((e) => e.target === n.id && (depth.get(e.source) ?? lastLayer) < d && order.has(e.source));
      return above.length ? above.reduce((sum, e) => sum + order.get(e.source)!, 0) / above.length : Number.MAX_SAFE_INTEGER;
    };
    const weights = new Map(layer.map((n) => [n.id, weight(n)]));
    layer.sort((x, y) => weights.get(x.id)! - weights.get(y.id)!);
    layer.forEach((n, i) => order.set(n.id, i - layer.length / 2));
  });
  const widest = Math.max(1, ...layers.map((l) => l?.length ?? 0));
  const width = widest * (W + GX) + GX;
  const place = new Map<string, { x: number; y: number }>();
  layers.forEach((layer, d) => {
    if (!layer) return;
    const offset = (width - layer.length * (W + GX) + GX) / 2;
    layer.forEach((n, i) => place.set(n.id, { x: offset + i * (W + GX), y: 20 + d * (H + GY) }));
  });
  const height = 20 + layers.length * (H + GY);
  const color: Record<string, string> = { next: "#4b5363", on: "#b0451f", case: "#1f5fa8", default: "#1f5fa8", key: "#6b3fa0" };
  return (
    <svg class="flow-graph" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-labelledby="graph-title">
      <title id="graph-title">{t("Flow {code}, version {version}: {count} nodes", { code: graph.code, version: graph.version, count: graph.nodes.length })}</title>
      <defs>
        {Object.entries(color).map(([k, c]) => (
          <marker id={`arrow-${k}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" fill={c} />
          </marker>
        ))}
      </defs>
      {graph.edges.map((e) => {
        const a = place.get(e.source);
        const b = place.get(e.target);
        if (!a || !b) return null;
        const c = e.reachable ? color[e.kind] ?? "#4b5363" : "#9a9a9a";
        let d: string;
        let lx: number;
        let ly: number;
        if (e.source === e.target) {
          d = `M${a.x + W},${a.y + H / 3} C${a.x + W + 45},${a.y - 10} ${a.x + W + 45},${a.y + H + 10} ${a.x + W},${a.y + (2 * H) / 3}`;
          lx = a.x + W + 40;
          ly = a.y + H / 2;
        } else if (b.y > a.y) {
          const x1 = a.x + W / 2;
          const y1 = a.y + H;
          const x2 = b.x + W / 2;
          const y2 = b.y;
          d = `M${x1},${y1} C${x1},${y1 + GY / 2} ${x2},${y2 - GY / 2} ${x2},${y2}`;
          lx = x1 + (x2 - x1) * 0.62; // nearer the target: the labels of one node's ways out spread apart
          ly = y1 + (y2 - y1) * 0.62;
        } else {
          const x1 = a.x;
          const y1 = a.y + H / 2;
          const x2 = b.x;
          const y2 = b.y + H / 2;
          const bend = Math.min(a.x, b.x) - 30;
          d = `M${x1},${y1} C${bend},${y1} ${bend},${y2} ${x2},${y2}`;
          lx = bend;
          ly = (y1 + y2) / 2;
        }
        return (
          <g class="edge">
            <path d={d} fill="none" stroke={c} stroke-width="1.4" stroke-dasharray={e.reachable ? undefined : "4 3"} marker-end={`url(#arrow-${e.kind})`} />
            {e.labels.length ? (
              <text x={lx} y={ly} fill={c} font-size="10" text-anchor="middle" paint-order="stroke" stroke="#fff" stroke-width="3">
                {e.labels.join(" · ")}
              </text>
            ) : null}
          </g>
        );
      })}
      {(graph.nodes as Box[]).map((n) => {
        const at = place.get(n.id)!;
        return (
          <g class={`node${n.reachable ? "" : " unreachable"}${n.start ? " start" : ""}${n.terminal ? " terminal" : ""}`} transform={`translate(${at.x},${at.y})`}>
            <rect width={W} height={H} rx={n.terminal ? 2 : 9} />
            <text x={W / 2} y={18} text-anchor="middle" class="node-id">
              {n.id}
            </text>
            <text x={W / 2} y={33} text-anchor="middle" class="node-type">
              {n.start ? `${n.type} · ${t("start")}` : n.type}
            </text>
            <text x={W / 2} y={47} text-anchor="middle" class="node-detail">
              {n.detail.length > 30 ? `${n.detail.slice(0, 29)}…` : n.detail}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function Flows() {
  const flows = useList(() => call(api.GET("/api/flows")));
  const [code, setCode] = useState<string | null>(null); // the published flow shown, null for a new text
  const [source, setSource] = useState("");
  const [fileName, setFileName] = useState("flow.yaml");
  const [issues, setIssues] = useState<Issue[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState("");
  const [bad, setBad] = useState(false); // the notice reports errors
  const [versions, setVersions] = useState<S<"VersionInfo">[]>([]);
  const [graph, setGraph] = useState<S<"FlowGraph"> | null>(null);
  const [graphProblem, setGraphProblem] = useState("");
  const [rollTo, setRollTo] = useState<number | null>(null);
  const [shown, setShown] = useState<number | null>(null); // the version in the editor
  const editor = useRef<HTMLTextAreaElement | null>(null);
  const touched = useRef(false); // the person opened, loaded, started or typed a flow: the first is not opened over it
  const summary = flows.rows?.find((f) => f.code === code);

  async function open(which: string, auto = false, version?: number) {
    if (!auto) touched.current = true;
    const query = version ? { version } : {};
    const text = await call(api.GET("/api/flows/{code}", { params: { path: { code: which }, query } }));
    if (auto && touched.current) return;
    setProblem(null);
    setIssues(null);
    setNotice("");
    if (text.problem) {
      setProblem(text.problem);
      return;
    }
    setCode(which);
    setShown(text.data.version);
    setSource(text.data.source);
    setFileName(`${which}.yaml`);
    const [v, g] = await Promise.all([
      call(api.GET("/api/flows/{code}/versions", { params: { path: { code: which } } })),
      call(api.GET("/api/flows/{code}/graph", { params: { path: { code: which }, query } })),
    ]);
    setVersions(v.data ?? []);
    setGraph(g.data ?? null);
    setGraphProblem(g.problem ? g.problem.detail ?? "" : "");
  }

  useEffect(() => {
    if (code === null && flows.rows && flows.rows.length > 0 && !touched.current) void open(flows.rows[0].code, true);
  }, [flows.rows]);

  function startNew() {
    touched.current = true;
    setCode(null);
    setSource(NEW_FLOW);
    setFileName("flow.yaml");
    setIssues(null);
    setProblem(null);
    setVersions([]);
    setGraph(null);
    setNotice("");
    editor.current?.focus();
  }

  async function upload(e: Event) {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    touched.current = true;
    setSource(await file.text());
    setFileName(file.name);
    setCode(null);
    setIssues(null);
    setProblem(null);
    setNotice(t("Loaded {name}: check it, then publish.", { name: file.name }));
    input.value = "";
  }

  async function check() {
    setNotice("");
    setBad(false);
    setProblem(null);
    const o = await call(api.POST("/api/flows/check", { body: { source, name: fileName } }));
    if (o.problem) {
      setProblem(o.problem);
      return;
    }
    const found = [...o.data.errors, ...o.data.warnings].sort((a, b) => a.line - b.line || a.column - b.column);
    setIssues(found);
    setBad(o.data.errors.length > 0);
    setNotice(o.data.errors.length === 0 ? t("No errors: ready to publish.") : t("{count} errors found.", { count: o.data.errors.length }));
  }

  async function publish() {
    setNotice("");
    setBad(false);
    setProblem(null);
    const o = await call(api.POST("/api/flows", { body: { source, name: fileName } }));
    if (o.problem) {
      const lines = (o.problem.errors ?? []) as unknown as (Issue & { source?: string })[];
      if (lines.length && typeof lines[0].line === "number") {
        setIssues(lines.map((l) => ({ ...l, severity: l.severity ?? "error" })));
        setBad(true);
        setNotice(t("Not published: {count} errors found.", { count: lines.length }));
      } else setProblem(o.problem);
      return;
    }
    flows.reload();
    await open(o.data.code); // the notice only once the editor holds the published text
    setIssues(o.data.warnings);
    setNotice(o.data.changed ? t("Published {code} version {version}.", { code: o.data.code, version: o.data.version }) : t("That text is already the current version."));
  }

  async function rollback(version: number) {
    setRollTo(null);
    if (!code) return;
    const o = await call(api.POST("/api/flows/{code}/rollback", { params: { path: { code } }, body: { version } }));
    if (o.problem) {
      setProblem(o.problem);
      return;
    }
    flows.reload();
    await open(code);
    setNotice(t("Version {version} is current again.", { version }));
  }

  function goTo(issue: Issue) {
    const area = editor.current;
    if (!area) return;
    const at = lineStart(source, issue.line) + Math.max(0, issue.column - 1);
    area.focus();
    area.setSelectionRange(at, at);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (issue.line - 4) * lineHeight);
  }

  const errors = issues?.filter((i) => i.severity === "error") ?? [];
  return (
    <section aria-labelledby="flows-title" class="section">
      <header class="section-head">
        <div>
          <h1 id="flows-title">{t("Contact flows")}</h1>
          <p class="muted small">{t("What a contact hears and does before reaching a queue, in YAML (flowlang 1). New contacts run the current version.")}</p>
        </div>
        <div class="row">
          <button type="button" onClick={startNew}>
            + {t("New flow")}
          </button>
          <label class="button file-button" for="flow-file">
            {t("Upload YAML…")}
          </label>
          <input id="flow-file" class="sr-only" type="file" accept=".yaml,.yml,text/yaml" onChange={(e) => void upload(e)} />
        </div>
      </header>
      <div class="flows-layout">
        <nav class="card flow-list" aria-label={t("Published flows")}>
          <h2>{t("Published flows")}</h2>
          {flows.rows === null ? <p class="muted">{t("Loading…")}</p> : null}
          <ul>
            {(flows.rows ?? []).map((f) => (
              <li>
                <button type="button" class={f.code === code ? "flow-item current" : "flow-item"} aria-current={f.code === code ? "true" : undefined} onClick={() => void open(f.code)}>
                  <span>{f.code}</span>
                  <span class="badge">v{f.current_version}</span>
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div class="flow-main">
          <div class="card">
            <div class="row space">
              <h2>
                <label for="flow-source" class="title-label">
                  {code ? t("Source of {code}, version {version}", { code, version: shown ?? "" }) : t("Source of a new flow ({name})", { name: fileName })}
                </label>
              </h2>
              {summary ? <span class="muted small">{t("Current version: {version} of {count}", { version: summary.current_version, count: summary.versions })}</span> : null}
            </div>
            <Editor value={source} onInput={(v) => {
                touched.current = true;
                setSource(v);
              }} issues={issues ?? []} editorRef={editor} />
            <div class="row form-buttons">
              <button type="button" onClick={() => void check()}>
                {t("Check")}
              </button>
              <button type="button" class="primary" onClick={() => void publish()}>
                {t("Publish")}
              </button>
              <div aria-live="polite" class="notice-inline">
                {notice ? <span class={bad ? "notice bad" : "notice"}>{notice}</span> : null}
              </div>
            </div>
            <ProblemText problem={problem} />
            {issues && issues.length > 0 ? (
              <div class="issues" role="region" aria-label={t("Problems")}>
                <h3>{t("Problems ({count})", { count: issues.length })}</h3>
                <ul>
                  {issues.map((i) => (
                    <li class={i.severity}>
                      <button type="button" class="issue" onClick={() => goTo(i)}>
                        <span class={`badge ${i.severity === "error" ? "away" : "busy"}`}>{i.severity === "error" ? t("error") : t("warning")}</span>{" "}
                        <span class="where">{t("line {line}, column {column}", { line: i.line, column: i.column })}</span> <span>{i.message}</span>
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
            {errors.length === 0 && issues !== null && issues.length === 0 ? <p class="ok-text small">{t("No problems.")}</p> : null}
          </div>
          {code ? (
            <div class="flow-bottom">
              <div class="card">
                <h2>{t("Versions")}</h2>
                <ActionsTable
                  caption={t("Versions")}
                  columns={[
                    {
                      label: t("Version"),
                      cell: (v) => (
                        <>
                          v{v.version} {v.version === summary?.current_version ? <span class="badge available">{t("current")}</span> : null}
                        </>
                      ),
                    },
                    { label: t("Published"), cell: (v) => new Date(v.published_at).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" }) },
                    { label: t("By"), cell: (v) => v.published_by },
                  ]}
                  rows={[...versions].reverse()}
                  actions={(v) => (
                    <>
                      {v.version !== shown ? (
                        <button type="button" class="small-button" onClick={() => void open(code, false, v.version)} aria-label={t("Show version {version}", { version: v.version })}>
                          {t("Show")}
                        </button>
                      ) : (
                        <span class="muted small">{t("in the editor")}</span>
                      )}
                      {v.version !== summary?.current_version ? (
                        <button type="button" class="small-button" onClick={() => setRollTo(v.version)}>
                          {t("Roll back to v{version}", { version: v.version })}
                        </button>
                      ) : null}
                    </>
                  )}
                />
              </div>
              <div class="card graph-card">
                <div class="row space">
                  <h2>{t("Graph")}</h2>
                  <a class="small" href={`/api/flows/${encodeURIComponent(code)}/graph.svg${shown ? `?version=${shown}` : ""}`} target="_blank" rel="noopener">
                    {t("Open the Graphviz drawing")}
                  </a>
                </div>
                {graph ? <div class="graph-scroll"><FlowGraph graph={graph} /></div> : <p class="muted">{graphProblem || t("Loading…")}</p>}
              </div>
            </div>
          ) : null}
        </div>
      </div>
      {rollTo !== null ? (
        <Confirm
          text={t("Make version {version} of {code} current again? New contacts will run it.", { version: rollTo, code: code ?? "" })}
          action={t("Roll back")}
          onYes={() => void rollback(rollTo)}
          onNo={() => setRollTo(null)}
        />
      ) : null}
    </section>
  );
}
