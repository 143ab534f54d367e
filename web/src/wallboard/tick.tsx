// Clocks that tick every second without re-rendering anything: each <Tick> registers its element, and one
// timer writes the elapsed time into all of them (500 agents' "time in state" cost one DOM text write each,
// no virtual DOM work). Preact never touches the text (the span has no children), so the two never fight.
import { useLayoutEffect, useRef } from "preact/hooks";
import { seconds } from "../lib/ui";

const clocks = new Map<HTMLElement, number>(); // element → epoch ms it counts from

function paint(el: HTMLElement, from: number, now: number): void {
  const text = Number.isFinite(from) ? seconds((now - from) / 1000) : "—";
  if (el.textContent !== text) el.textContent = text;
}

setInterval(() => {
  const now = Date.now();
  for (const [el, from] of clocks) paint(el, from, now);
}, 1000);

/** Elapsed time since `from` (epoch ms; null: a dash), ticking. */
export function Tick({ from, class: cls }: { from: number | null; class?: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    const el = ref.current!;
    const value = from ?? Number.NaN;
    clocks.set(el, value);
    paint(el, value, Date.now());
    return () => {
      clocks.delete(el);
    };
  }, [from]);
  return <span ref={ref} class={`tick ${cls ?? ""}`} />;
}
