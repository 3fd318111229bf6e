// Least-squares slope of a series: the growth trend of a memory curve, in units per minute.

/** Slope of y over t (t in ms), per minute; NaN with fewer than 3 points. */
export function slopePerMinute(points: Array<{ t: number; y: number }>): number {
  const n = points.length
  if (n < 3) return Number.NaN
  let st = 0
  let sy = 0
  for (const p of points) {
    st += p.t
    sy += p.y
  }
  const mt = st / n
  const my = sy / n
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.t - mt) * (p.y - my)
    den += (p.t - mt) ** 2
  }
  return den === 0 ? Number.NaN : (num / den) * 60_000
}
