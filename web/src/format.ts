// Number, time and duration formatting for the views.

export function fmtNum(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// Up to `digits` decimals, fewer for large values.
export function fmtSmart(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return fmtNum(x, 0);
  if (a >= 100) return fmtNum(x, Math.min(digits, 1));
  return fmtNum(x, digits);
}

// Whole numbers without decimals, fractions (fractional busy counts) with one.
export function fmtCount(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return Number.isInteger(x) ? fmtNum(x, 0) : fmtNum(x, 1);
}

export function fmtPct(fraction: number): string {
  if (!Number.isFinite(fraction)) return '–';
  return `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.1 ? 1 : 0)}%`;
}

// 0 -> "0s", 75_000 -> "1m 15s", 90_061_000 -> "1d 1h"
export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const neg = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  s -= mm * 60;
  let out: string;
  if (d > 0) out = `${d}d ${hh}h`;
  else if (hh > 0) out = `${hh}h ${mm}m`;
  else if (mm > 0) out = `${mm}m ${s}s`;
  else out = `${s}s`;
  return neg ? `-${out}` : out;
}

export function fmtSeconds(s: number): string {
  return fmtDuration(s * 1000);
}

const pad = (n: number) => String(n).padStart(2, '0');

// Local date and time, "2025-11-21 09:20:01"; 0 means "not yet".
export function fmtTime(ms: number): string {
  if (!ms) return '–';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '–';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "12s ago", "in 3m 4s"
export function fmtRelative(ms: number, now = Date.now()): string {
  if (!ms) return '–';
  const diff = ms - now;
  if (Math.abs(diff) < 1000) return 'now';
  return diff < 0 ? `${fmtDuration(-diff)} ago` : `in ${fmtDuration(diff)}`;
}

// Parses a time limit: "3600", "90s", "30m", "2h", "1h30m", "1d". Returns
// seconds, or null when it is not a duration.
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (!t) return null;
  if (/^\d+$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)\s*(d|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    if (t.slice(consumed, m.index).trim() !== '') return null;
    const unit = { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as 'd' | 'h' | 'm' | 's'];
    total += Number(m[1]) * unit;
    consumed = m.index + m[0].length;
  }
  if (consumed === 0 || t.slice(consumed).trim() !== '') return null;
  return Math.round(total);
}
