// The Reports area's filters: which report, the local days (with presets), and the options the report takes
// (group-by dimensions, interval, service-level threshold). Every control is labelled and native, so it works
// from the keyboard; a field the API refused is marked (aria-invalid) and its words are shown under it.
import { t } from "../lib/i18n";
import { isDay, PRESETS, presetLabel, presetOf, presetRange } from "./format";
import { byOf, intervalOf, usesOf, type Catalog, type Query } from "./query";

function FieldError({ id, text }: { id: string; text: string | undefined }) {
  return text ? (
    <span class="field-error" id={id}>
      {text}
    </span>
  ) : null;
}

function NumberField(props: {
  id: string;
  label: string;
  min: number;
  max: number;
  step: string;
  value: string;
  placeholder: string;
  error: string | undefined;
  change: (value: string) => void;
}) {
  const { id, error } = props;
  return (
    <div class={`field number-option${error ? " invalid" : ""}`}>
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        min={props.min}
        max={props.max}
        step={props.step}
        inputMode="decimal"
        placeholder={props.placeholder}
        value={props.value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => props.change(e.currentTarget.value)}
      />
      <FieldError id={`${id}-error`} text={error} />
    </div>
  );
}

export function Filters({
  catalog,
  query,
  change,
  errors,
}: {
  catalog: Catalog;
  query: Query;
  change: (q: Partial<Query>) => void;
  errors: Record<string, string>;
}) {
  const uses = usesOf(catalog, query.report);
  const preset = presetOf(query.from, query.to, catalog.today);
  const description =
    query.report === "kpis" ? catalog.kpis.description : (catalog.reports.find((r) => r.name === query.report)?.description ?? "");
  const max = catalog.kpis.max_dimensions;
  function toggle(name: string, on: boolean) {
    change({ by: on ? [...query.by.filter((d) => d !== name), name] : query.by.filter((d) => d !== name) });
  }
  function day(which: "from" | "to", value: string) {
    if (isDay(value)) change({ [which]: value });
  }
  return (
    <form class="card report-filters" aria-labelledby="filters-title" onSubmit={(e) => e.preventDefault()}>
      <h2 id="filters-title" class="sr-only">
        {t("Filters")}
      </h2>
      <div class="filter-row">
        <div class="field report-pick">
          <label for="report">{t("Report")}</label>
          <select id="report" value={query.report} onChange={(e) => change({ report: e.currentTarget.value })} aria-describedby="report-description">
            <option value="kpis">{catalog.kpis.title}</option>
            {catalog.reports.map((r) => (
              <option value={r.name}>{r.title}</option>
            ))}
          </select>
          <span class="hint" id="report-description">
            {description}
          </span>
        </div>
        <fieldset class="plain period">
          <legend>{t("Days (local, both included)")}</legend>
          <div class="row presets" role="group" aria-label={t("Presets")}>
            {PRESETS.map((p) => (
              <button type="button" class="small-button" aria-pressed={preset === p} onClick={() => {
                const [from, to] = presetRange(p, catalog.today);
                change({ from, to });
              }}>
                {presetLabel(p)}
              </button>
            ))}
          </div>
          <div class="row">
            <div class={`field${errors.from ? " invalid" : ""}`}>
              <label for="from">{t("From")}</label>
              <input
                id="from"
                type="date"
                value={query.from}
                required
                aria-invalid={errors.from ? true : undefined}
                aria-describedby={errors.from ? "from-error" : undefined}
                onChange={(e) => day("from", e.currentTarget.value)}
              />
              <FieldError id="from-error" text={errors.from} />
            </div>
            <div class={`field${errors.to ? " invalid" : ""}`}>
              <label for="to">{t("To")}</label>
              <input
                id="to"
                type="date"
                value={query.to}
                required
                aria-invalid={errors.to ? true : undefined}
                aria-describedby={errors.to ? "to-error" : undefined}
                onChange={(e) => day("to", e.currentTarget.value)}
              />
              <FieldError id="to-error" text={errors.to} />
            </div>
          </div>
        </fieldset>
        {uses.by === "one" ? (
          <div class={`field${errors.by ? " invalid" : ""}`}>
            <label for="by-one">{t("Group by")}</label>
            <select
              id="by-one"
              value={byOf(query, uses)[0]}
              aria-invalid={errors.by ? true : undefined}
              aria-describedby={errors.by ? "by-error" : undefined}
              onChange={(e) => change({ by: [e.currentTarget.value] })}
            >
              {uses.byChoices.map((c) => (
                <option value={c.name}>{c.title}</option>
              ))}
            </select>
            <FieldError id="by-error" text={errors.by} />
          </div>
        ) : null}
        {uses.intervals.length ? (
          <div class={`field${errors.interval ? " invalid" : ""}`}>
            <label for="interval">{t("Interval")}</label>
            <select
              id="interval"
              value={intervalOf(query, uses)}
              aria-invalid={errors.interval ? true : undefined}
              aria-describedby={errors.interval ? "interval-error" : undefined}
              onChange={(e) => change({ interval: e.currentTarget.value })}
            >
              {uses.wholeRange ? <option value="">{t("Whole range")}</option> : null}
              {uses.intervals.map((i) => (
                <option value={i.name}>{i.title}</option>
              ))}
            </select>
            <FieldError id="interval-error" text={errors.interval} />
          </div>
        ) : null}
        {uses.options.includes("threshold") ? (
          <div class={`field threshold${errors.threshold ? " invalid" : ""}`}>
            <label for="threshold">{t("Service-level threshold (s)")}</label>
            <input
              id="threshold"
              type="number"
              min={0}
              max={86400}
              step="any"
              inputMode="decimal"
              placeholder={t("each queue's")}
              value={query.threshold}
              aria-invalid={errors.threshold ? true : undefined}
              aria-describedby={errors.threshold ? "threshold-error" : "threshold-hint"}
              onChange={(e) => change({ threshold: e.currentTarget.value })}
            />
            {errors.threshold ? (
              <FieldError id="threshold-error" text={errors.threshold} />
            ) : (
              <span class="hint" id="threshold-hint">
                {t("Empty: each queue's own")}
              </span>
            )}
          </div>
        ) : null}
        {uses.options.includes("top") ? (
          <NumberField id="top" label={t("Customers shown")} min={1} max={1000} step="1" value={query.top} placeholder="10" error={errors.top} change={(top) => change({ top })} />
        ) : null}
        {uses.options.includes("z") ? (
          <NumberField id="z" label={t("Outlier above |z|")} min={0.5} max={10} step="0.1" value={query.z} placeholder="2" error={errors.z} change={(z) => change({ z })} />
        ) : null}
        {uses.options.includes("level") ? (
          <div class="field">
            <label for="level">{t("Top skill level")}</label>
            <select id="level" value={query.level || "5"} onChange={(e) => change({ level: e.currentTarget.value })}>
              {["1", "2", "3", "4", "5"].map((n) => (
                <option value={n}>{n}</option>
              ))}
            </select>
          </div>
        ) : null}
        {uses.options.includes("tier") && catalog.value_tiers.length ? (
          <div class={`field${errors.tier ? " invalid" : ""}`}>
            <label for="tier">{t("High value tier")}</label>
            <select id="tier" value={query.tier || catalog.value_tiers[catalog.value_tiers.length - 1]} onChange={(e) => change({ tier: e.currentTarget.value })}>
              {catalog.value_tiers.map((v) => (
                <option value={v}>{v}</option>
              ))}
            </select>
            <FieldError id="tier-error" text={errors.tier} />
          </div>
        ) : null}
      </div>
      {uses.by === "many" ? (
        <fieldset class={`plain dimensions${errors.by ? " invalid" : ""}`} aria-describedby={errors.by ? "by-error" : undefined}>
          <legend>{t("Group by (up to {n})", { n: max })}</legend>
          <div class="dimension-grid">
            {uses.byChoices.map((d) => {
              const on = query.by.includes(d.name);
              return (
                <label class="check">
                  <input
                    type="checkbox"
                    name="by"
                    value={d.name}
                    checked={on}
                    disabled={!on && query.by.length >= max}
                    onChange={(e) => toggle(d.name, e.currentTarget.checked)}
                  />
                  {d.title}
                </label>
              );
            })}
          </div>
          <FieldError id="by-error" text={errors.by} />
        </fieldset>
      ) : null}
    </form>
  );
}
