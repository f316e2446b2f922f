package kpi

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The old direct computation of a pooled cell's figures, kept as the oracle the running
// sums (growthPrefix) are checked against.
// growthFigures reads a pooled cell's reports up to month k. A report after missed months
// covers their share of the profile too (Δf from the previous report); a month the profile
// expects nothing of adds to the actual but not to the variance estimate.
func directGrowthFigures(fc *fcCell, k int) growthStats {
	st := growthStats{stock: fc.ind.Kind == KindStock}
	c, s := fc.c, fc.s
	p := &fc.ind.Pacing
	if st.stock || p.Name == "none" {
		lin := LinearPacing()
		p = &lin
	}
	for j := k; j >= 1; j-- {
		if c.Has(j) {
			st.last = j
			break
		}
	}
	if st.stock {
		st.base = fc.g.baseline
	}
	st.target = *fc.g.target - st.base
	if st.last == 0 || st.target <= 0 {
		return st
	}
	st.fL = p.Fraction(st.last)
	if st.fL <= 0 {
		return st // the profile expects nothing yet: no run rate to extrapolate
	}
	st.use = true
	st.done = s.actual[st.last] - st.base
	st.pace = st.done / (st.target * st.fL)
	// residuals of the reports around the pace, each report weighted by the months it covers
	prev, prevF, prevA := 0, 0.0, 0.0
	var ss, n, factor, shape float64
	for j := 1; j <= st.last; j++ {
		if !c.Has(j) {
			continue
		}
		df := p.Fraction(j) - prevF
		gap := float64(j - prev)
		x := s.actual[j] - st.base - prevA
		if df > 0 {
			u := x/(st.target*df) - st.pace
			ss += gap * u * u
			n++
			factor += df * df / gap
			shape += (p.Fraction(j)*p.Fraction(j) + prevF*prevF) / (df * df)
		}
		prev, prevF, prevA = j, p.Fraction(j), s.actual[j]-st.base
	}
	st.paceFactor = factor / (st.fL * st.fL)
	if n > 0 {
		st.levelShape = shape / n
	}
	// successive reports' departures from the pace: level noise makes them cancel (a
	// report that overshoots is followed by one that undershoots); each product is set
	// against how strongly level noise would show in it, f_j² / (Δf_j Δf_j+1)
	if st.pace > 0 && n >= 3 {
		var prod, shapeSum, pairs float64
		prevU, prevDF, prevJ := 0.0, 0.0, -1
		pj, pF, pA := 0, 0.0, 0.0
		for j := 1; j <= st.last; j++ {
			if !c.Has(j) {
				continue
			}
			df := p.Fraction(j) - pF
			x := s.actual[j] - st.base - pA
			if df > 0 && j-pj == 1 {
				u := (x/(st.target*df) - st.pace) / st.pace
				if prevJ == pj && prevDF > 0 {
					prod += prevU * u
					shapeSum += pF * pF / (prevDF * df)
					pairs++
				}
				prevU, prevDF, prevJ = u, df, j
			}
			pj, pF, pA = j, p.Fraction(j), s.actual[j]-st.base
		}
		if pairs > 0 && shapeSum > 0 {
			// the pace is estimated from the same reports, which makes neighbours look
			// slightly opposed even without level noise: allow for it (≈ σ²/n a pair)
			s2 := ss / n / (st.pace * st.pace)
			st.lagProd = -(prod + pairs*s2/n)
			st.lagN = shapeSum
			st.lagRaw, st.lagSq, st.lagPairs = prod, s2*pairs, pairs
		}
	}
	if n >= 2 && st.pace > 0 {
		st.sigma2 = ss / (n - 1) / (st.pace * st.pace)
		st.df = n - 1
	}
	for j := st.last + 1; j <= 12; j++ {
		d := p.Fraction(j) - p.Fraction(j-1)
		st.futureShare += d * d
	}
	return st
}

// growthForecast is a pooled cell's forecast: its pace shrunk toward the township's other

// TestGrowthPrefixEqualsTheDirectFigures checks the running sums against the direct
// computation on random reports: counts on linear, seasonal and flat profiles and stocks
// with a baseline, with missed months, whole and fractional figures, at every month.
func TestGrowthPrefixEqualsTheDirectFigures(t *testing.T) {
	a := mustAssessment(t, `name: 测试
year: 2024
townships: [{code: aa, name: 甲镇}]
indicators:
  - {code: lin, name: L, kind: count, weight: 25, target: 120}
  - {code: sea, name: S, kind: count, weight: 25, target: 100, pacing: [0, 0.05, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1]}
  - {code: flat, name: F, kind: count, weight: 25, target: 60, pacing: none}
  - {code: home, name: H, kind: stock, weight: 25, target: 40, baseline: 20}
`)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		d := NewDataset(a)
		for i, ind := range a.Indicators {
			level := 20.0
			for m := 1; m <= 12; m++ {
				if rng.IntN(6) == 0 {
					continue // missed
				}
				v := float64(rng.IntN(15))
				if trial%3 == 0 {
					v = 10 // exactly on a linear path
				}
				if ind.Kind == KindStock {
					level += float64(rng.IntN(4))
					v = level
				}
				d.SetAt(0, i, m, v, 0)
			}
		}
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			var s series
			buildSeries(&s, ind, d.Cell(0, i), 12)
			fc := fcCell{ind: ind, g: ind.goalFor("aa"), c: d.Cell(0, i), s: &s}
			var gp growthPrefix
			gp.build(&fc, 11)
			for k := 1; k <= 11; k++ {
				got, want := growthAt(&fc, &gp, k), directGrowthFigures(&fc, k)
				if want.lagSq < 1e-20 {
					// a path exactly on its pace: the direct sums leave rounding noise (1e-32)
					// where the running sums say 0, and no pair carries information
					want.lagProd, want.lagN, want.lagRaw, want.lagSq, want.lagPairs = 0, 0, 0, 0, 0
				}
				if !sameGrowth(got, want) {
					t.Fatalf("trial %d %s month %d:\n got %+v\nwant %+v", trial, ind.Code, k, got, want)
				}
			}
		}
	}
}

func sameGrowth(a, b growthStats) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*max(1, math.Abs(x), math.Abs(y)) }
	return a.use == b.use && a.stock == b.stock && a.last == b.last && near(a.base, b.base) && near(a.target, b.target) &&
		near(a.done, b.done) && near(a.fL, b.fL) && near(a.pace, b.pace) && near(a.sigma2, b.sigma2) && near(a.df, b.df) &&
		near(a.paceFactor, b.paceFactor) && near(a.futureShare, b.futureShare) && near(a.lagProd, b.lagProd) &&
		near(a.lagN, b.lagN) && near(a.lagRaw, b.lagRaw) && near(a.lagSq, b.lagSq) && near(a.lagPairs, b.lagPairs) &&
		near(a.levelShape, b.levelShape)
}
