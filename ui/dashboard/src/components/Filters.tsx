// Filter bar: date range (preset or two dates), granularity and region.
import type { Granularity } from '../api';
import { regionName } from '../format';
import { lastDay, parseIsoDate, PRESETS, toIsoDate, type DateRange, type Preset } from '../ranges';
import { GRANULARITIES, type Filters as FilterState } from '../url-state';

interface Props {
  filters: FilterState;
  range: DateRange;
  regions: readonly string[];
  onChange: (patch: Partial<FilterState>) => void;
}

const GRANULARITY_LABELS: Record<Granularity, string> = { daily: 'Day', weekly: 'Week', monthly: 'Month' };

function sortedRegions(regions: readonly string[], selected: string | undefined): string[] {
  const all = new Set(regions);
  if (selected) all.add(selected);
  const rank = (code: string) => (code === 'unknown' ? 1 : 0);
  return [...all].sort((a, b) => rank(a) - rank(b) || regionName(a).localeCompare(regionName(b)));
}

function optionLabel(code: string): string {
  const name = regionName(code);
  return name.toLowerCase() === code.toLowerCase() ? name : `${name} (${code})`;
}

export function Filters({ filters, range, regions, onChange }: Props) {
  const from = toIsoDate(range.start);
  const to = toIsoDate(lastDay(range));

  const choosePreset = (preset: Preset) =>
    // Switching to "custom" starts from the dates on screen, so nothing jumps.
    onChange(preset === 'custom' ? { preset, from, to } : { preset, from: undefined, to: undefined });

  const chooseDate = (which: 'from' | 'to', value: string) => {
    if (!parseIsoDate(value)) return;
    const dates = { from, to, [which]: value };
    // Keep the range the right way round whichever end moved past the other.
    if (dates.from > dates.to) {
      if (which === 'from') dates.to = dates.from;
      else dates.from = dates.to;
    }
    onChange({ preset: 'custom', ...dates });
  };

  return (
    <section class="filters" aria-label="Filters">
      <div class="field">
        <label for="range-preset">Date range</label>
        <select id="range-preset" value={filters.preset} onChange={(e) => choosePreset(e.currentTarget.value as Preset)} data-testid="range-preset">
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      <div class="field field-dates">
        <div class="field">
          <label for="range-from">From</label>
          <input id="range-from" type="date" value={from} required onChange={(e) => chooseDate('from', e.currentTarget.value)} data-testid="range-from" />
        </div>
        <div class="field">
          <label for="range-to">To</label>
          <input id="range-to" type="date" value={to} required onChange={(e) => chooseDate('to', e.currentTarget.value)} data-testid="range-to" />
        </div>
      </div>
      <div class="field">
        <span class="label" id="granularity-label">
          Interval
        </span>
        {/* biome-ignore lint/a11y/useSemanticElements: a fieldset would bring its own border and legend layout to a row of segmented buttons */}
        <div class="segmented" role="group" aria-labelledby="granularity-label">
          {GRANULARITIES.map((g) => (
            <button
              key={g}
              type="button"
              aria-pressed={filters.granularity === g}
              onClick={() => onChange({ granularity: g })}
              data-testid={`granularity-${g}`}
            >
              {GRANULARITY_LABELS[g]}
            </button>
          ))}
        </div>
      </div>
      <div class="field">
        <label for="region-filter">Region</label>
        <select
          id="region-filter"
          value={filters.region ?? ''}
          onChange={(e) => onChange({ region: e.currentTarget.value || undefined })}
          data-testid="region-filter"
        >
          <option value="">All regions</option>
          {sortedRegions(regions, filters.region).map((code) => (
            <option key={code} value={code}>
              {optionLabel(code)}
            </option>
          ))}
        </select>
      </div>
    </section>
  );
}
