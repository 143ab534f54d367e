// Clocks that tick every second without re-rendering anything: each <Tick> registers its element, and one
// timer writes the elapsed time into those on screen (an IntersectionObserver knows which: 500 agents'
// rows, most scrolled out of view, cost only the visible ones' text writes). Preact never touches the text
// (the span has no children), so the two never fight.
import { useLayoutEffect, useRef } from "preact/hooks";
import { seconds } from "../lib/ui";

const clocks = new Map<HTMLElement, number>(); // element → epoch ms it counts from
const visible = new Set<HTMLElement>();

function paint(el: HTMLElement, from: number, now: number): void {
  const text = Number.isFinite(from) ? seconds((now - from) / 1000) : "—";
  if (el.textContent !== text) el.textContent = text;
}

const seen = new IntersectionObserver((entries) => {
  const now = Date.now();
  for (const e of entries) {
    const el = e.target as HTMLElement;
    if (e.isIntersecting) {
      visible.add(el);
      const from = clocks.get(el);
      if (from !== undefined) paint(el, from, now);
    } else {
      visible.delete(el);
    }
  }
});

setInterval(() => {
  const now = Date.now();
  for (const el of visible) {
    const from = clocks.get(el);
    if (from !== undefined) paint(el, from, now);
  }
}, 1000);

/** Elapsed time since `from` (epoch ms; null: a dash), ticking. */
export function Tick({ from, class: cls }: { from: number | null; class?: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    const el = ref.current!;
    clocks.set(el, from ?? Number.NaN);
    paint(el, from ?? Number.NaN, Date.now());
  }, [from]);
  useLayoutEffect(() => {
    const el = ref.current!;
    seen.observe(el);
    return () => {
      seen.unobserve(el);
      clocks.delete(el);
      visible.delete(el);
    };
  }, []);
  return <span ref={ref} class={`tick ${cls ?? ""}`} />;
}
