// A live line chart over uPlot (small, fast, canvas-based): one x axis of timestamps, one
// series per stat.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

const COLOURS = ['#d6336c', '#1c7ed6', '#37b24d', '#f59f00', '#7048e8'];

export interface ChartProps {
  title: string;
  /** Milliseconds since the epoch. */
  times: number[];
  series: Array<{ label: string; values: number[] }>;
  unit?: string;
  testId?: string;
}

export function Chart(props: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = (): uPlot.AlignedData => [props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)];

  useEffect(() => {
    const el = host.current!;
    const p = new uPlot(
      {
        title: props.title,
        width: Math.max(280, el.clientWidth || 420),
        height: 180,
        series: [{}, ...props.series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 1.5, value: (_u: uPlot, v: number | null) => (v == null ? '-' : `${+v.toFixed(3)}${props.unit ?? ''}`) }))],
        axes: [{}, { size: 60, values: (_u, ticks) => ticks.map((t) => `${+t.toFixed(3)}${props.unit ?? ''}`) }],
        scales: { y: { range: (_u, min, max) => [0, Math.max(1, max, min)] } },
        legend: { live: false },
      },
      data(),
      el,
    );
    plot.current = p;
    const resize = new ResizeObserver(() => p.setSize({ width: Math.max(280, el.clientWidth), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
    };
  }, [props.title, props.series.map((s) => s.label).join('|')]);

  useEffect(() => {
    plot.current?.setData(data());
  }, [props.times, props.series]);

  return <div class="chart" ref={host} data-testid={props.testId} />;
}
