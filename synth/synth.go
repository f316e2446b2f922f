// Package synth generates synthetic assessments of any size for benchmarks and load tests:
// N townships × M indicators mixing every kind, and K months of reports, deterministic for a
// seed. The figures are plausible (counts near their paced targets, ratios near their
// thresholds) so that evaluations exercise every status, not one branch.
//
// With Noise > 0 the year is noisy the way real years are, for testing forecasts: townships
// differ (some do well at everything), a township does better at some indicators than
// others, the whole county has good and bad months for an indicator (the real seasonal shape
// departs from the configured profile), each month's figure varies on its own, counts are
// whole numbers, and now and then a township misses a month's report and sends it with the
// next. Half the counts then follow a seasonal pacing profile and stocks start the year
// from a baseline (年初基数).
package synth

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/kpimon/kpimon/kpi"
)

// Spec is the size and seed of a synthetic assessment.
type Spec struct {
	Townships  int
	Indicators int
	Months     int // reports for months 1 … Months of Year
	Seed       uint64
	Year       int     // 2024 when zero
	Noise      float64 // 0: the plain generator; 0.3: a noisy year (see the package comment); at most 1
}

func (s Spec) year() int {
	if s.Year == 0 {
		return 2024
	}
	return s.Year
}

// Validate checks the spec's bounds.
func (s Spec) Validate() error {
	switch {
	case s.Townships < 1:
		return fmt.Errorf("乡镇数至少为 1，现为 %d", s.Townships)
	case s.Indicators < 6:
		return fmt.Errorf("指标数至少为 6（每类指标至少一个），现为 %d", s.Indicators)
	case s.Months < 1 || s.Months > 12:
		return fmt.Errorf("月数应在 1 到 12 之间，现为 %d", s.Months)
	case !(s.Noise >= 0 && s.Noise <= 1):
		return fmt.Errorf("噪声应在 0 到 1 之间（如 0.3），现为 %g", s.Noise)
	}
	return nil
}

// kindAt is the kind of the i-th indicator: two bonus-and-veto slots at the end, the rest
// cycling through count (half), ratio, stock, lower-direction count and milestone.
func kindAt(i, m int) (kpi.Kind, kpi.Direction) {
	switch {
	case i == m-1:
		return kpi.KindVeto, ""
	case i == m-2:
		return kpi.KindBonus, ""
	}
	switch i % 10 {
	case 0, 1, 2, 3, 4:
		return kpi.KindCount, kpi.Higher
	case 5, 6:
		return kpi.KindRatio, kpi.Higher
	case 7:
		return kpi.KindStock, kpi.Higher
	case 8:
		return kpi.KindCount, kpi.Lower
	}
	return kpi.KindMilestone, ""
}

// Config writes the assessment's config as YAML. Weights of the scored indicators sum to 100.
func Config(s Spec) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name: 合成考核（%d 个乡镇 × %d 项指标）\nyear: %d\ntimezone: Asia/Shanghai\nreport_deadline_day: 5\n", s.Townships, s.Indicators, s.year())
	b.WriteString("townships:\n")
	for t := 0; t < s.Townships; t++ {
		fmt.Fprintf(&b, "  - {code: t%06d, name: 乡镇%06d}\n", t, t)
	}
	scored := s.Indicators - 2
	weight := 100 / float64(scored)
	b.WriteString("indicators:\n")
	cats := []string{"组织建设", "维权信访", "关爱帮扶", "创业就业", "家庭建设", "宣传"}
	for i := 0; i < s.Indicators; i++ {
		k, dir := kindAt(i, s.Indicators)
		fmt.Fprintf(&b, "  - code: i%03d\n    name: 指标%03d\n    category: %s\n    kind: %s\n", i, i, cats[i%len(cats)], k)
		switch k {
		case kpi.KindCount, kpi.KindStock:
			fmt.Fprintf(&b, "    weight: %s\n    target: %d\n", strconv.FormatFloat(weight, 'f', -1, 64), 120+i*10)
			if dir == kpi.Lower {
				b.WriteString("    direction: lower\n")
			}
			if s.Noise > 0 && k == kpi.KindStock {
				fmt.Fprintf(&b, "    baseline: %d\n", (120+i*10)*6/10)
			}
			if s.Noise > 0 && k == kpi.KindCount && dir == kpi.Higher && i%2 == 1 {
				b.WriteString("    pacing: " + seasonal + "\n")
			}
		case kpi.KindRatio:
			fmt.Fprintf(&b, "    weight: %s\n    threshold: 0.95\n", strconv.FormatFloat(weight, 'f', -1, 64))
		case kpi.KindMilestone:
			fmt.Fprintf(&b, "    weight: %s\n    due: %d\n", strconv.FormatFloat(weight, 'f', -1, 64), 3+i%9)
		case kpi.KindBonus:
			b.WriteString("    max: 5\n")
		}
	}
	return []byte(b.String()), nil
}

// seasonal is the profile noisy configs give half their counts: a slow start around the
// Spring Festival, a push before the half-year review and another before the year's end.
const seasonal = "[0.04, 0.08, 0.15, 0.24, 0.33, 0.45, 0.52, 0.59, 0.67, 0.77, 0.88, 1]"

// Generate calls emit for every observation of the spec, township by township, month by
// month: every township reports every indicator every month, as a monthly form does (0 for a
// milestone not yet done, a bonus not awarded, no veto), so N × M × K observations. The same
// spec always yields the same observations.
func Generate(a *kpi.Assessment, s Spec, emit func(kpi.Observation) error) error {
	if s.Noise > 0 {
		return generateNoisy(a, s, emit)
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x6b70696d6f6e))
	for t := range a.Townships {
		tw := a.Townships[t].Code
		skill := 0.8 + 0.4*rng.Float64() // how well this township does
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			doneAt := 1 + rng.IntN(14) // milestones: done in this month (13, 14: not this year)
			for m := 1; m <= s.Months; m++ {
				o := kpi.Observation{Township: tw, Indicator: ind.Code, Period: kpi.Period{Year: a.Year, Month: m}}
				switch ind.Kind {
				case kpi.KindCount:
					target := *ind.Target
					if ind.Direction == kpi.Lower {
						o.Value = float64(rng.IntN(2) * rng.IntN(2) * rng.IntN(2))
					} else {
						o.Value = float64(int(target / 12 * skill * (0.7 + 0.6*rng.Float64())))
					}
				case kpi.KindStock:
					o.Value = float64(int(*ind.Target * skill * (0.9 + 0.02*float64(m))))
				case kpi.KindRatio:
					den := float64(5 + rng.IntN(30))
					miss := 0.0
					if rng.Float64() > skill*0.9 {
						miss = float64(1 + rng.IntN(2))
					}
					o.Denominator, o.Numerator = den, max(0, den-miss)
				case kpi.KindMilestone:
					if m >= doneAt {
						o.Value = 1
					}
				case kpi.KindBonus:
					if rng.IntN(24) == 0 {
						o.Value = float64(1 + rng.IntN(3))
					}
				case kpi.KindVeto:
					// no veto: reported as 0 every month
				}
				if err := emit(o); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// WriteCSV writes the spec's observations as long-form CSV and returns how many it wrote.
func WriteCSV(w io.Writer, a *kpi.Assessment, s Spec) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.WriteString("township,indicator,period,value,numerator,denominator\n"); err != nil {
		return 0, err
	}
	n := 0
	buf := make([]byte, 0, 128)
	err := Generate(a, s, func(o kpi.Observation) error {
		buf = buf[:0]
		buf = append(buf, o.Township...)
		buf = append(buf, ',')
		buf = append(buf, o.Indicator...)
		buf = append(buf, ',')
		buf = append(buf, o.Period.String()...)
		buf = append(buf, ',')
		if o.Denominator > 0 || a.Indicators[a.IndicatorIndex(o.Indicator)].Kind == kpi.KindRatio {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, o.Numerator, 'f', -1, 64)
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, o.Denominator, 'f', -1, 64)
		} else {
			buf = strconv.AppendFloat(buf, o.Value, 'f', -1, 64)
			buf = append(buf, ',', ',')
		}
		buf = append(buf, '\n')
		n++
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// generateNoisy is Generate for Noise > 0. With n the noise, each figure is its paced share
// of the target times lognormal factors of spread n/2 for the township, n/3 for the
// township's way with the indicator, n/2 for the county's month (shared by every township)
// and n for the township's month; a township misses a month's report with probability n/10
// and reports the missed flow with its next report. Unlike Generate it does not report
// every cell every month, so it yields fewer than N × M × K observations.
func generateNoisy(a *kpi.Assessment, s Spec, emit func(kpi.Observation) error) error {
	n := s.Noise
	logn := func(rng *rand.Rand, sd float64) float64 { return math.Exp(sd*rng.NormFloat64() - sd*sd/2) }
	// the county's months, one series per indicator, the same for every township
	monthFx := make([][13]float64, len(a.Indicators))
	for i := range a.Indicators {
		rng := rand.New(rand.NewPCG(s.Seed, 0x6d6f6e7468+uint64(i)))
		for m := 1; m <= 12; m++ {
			monthFx[i][m] = logn(rng, n/2)
		}
	}
	for t := range a.Townships {
		rng := rand.New(rand.NewPCG(s.Seed, uint64(t+1)*0x9e3779b97f4a7c15))
		tw := a.Townships[t].Code
		skill := logn(rng, n/2)
		var missed [13]bool
		for m := 1; m <= s.Months; m++ {
			missed[m] = rng.Float64() < n/10
		}
		for i := range a.Indicators {
			ind := &a.Indicators[i]
			knack := skill * logn(rng, n/3)
			doneAt := 1 + rng.IntN(14)
			var carry, carryDen float64  // a missed month's flow, reported with the next
			level := ind.BaselineFor(tw) // a stock starts the year at its 年初基数
			den := float64(5 + rng.IntN(30))
			rate := min(1, max(0.5, ind.Threshold+0.03-n/10*math.Abs(rng.NormFloat64())))
			for m := 1; m <= s.Months; m++ {
				o := kpi.Observation{Township: tw, Indicator: ind.Code, Period: kpi.Period{Year: a.Year, Month: m}}
				switch ind.Kind {
				case kpi.KindCount:
					target := *ind.TargetFor(tw)
					var x float64
					if ind.Direction == kpi.Lower {
						x = float64(rng.IntN(2) * rng.IntN(2) * rng.IntN(2))
					} else {
						share := ind.Pacing.Fraction(m)
						if m > 1 {
							share -= ind.Pacing.Fraction(m - 1)
						}
						x = math.Floor(target*share*knack*monthFx[i][m]*logn(rng, n) + rng.Float64())
					}
					carry += x
					o.Value = carry
				case kpi.KindStock:
					target := *ind.TargetFor(tw)
					growth := (target - ind.BaselineFor(tw)) / 12 * knack
					if rng.Float64() < 0.7 { // stocks grow in steps: three months in ten without a new one
						level += math.Round(growth / 0.7 * monthFx[i][m] * logn(rng, n))
					}
					o.Value = level
				case kpi.KindRatio:
					d := math.Round(den * monthFx[i][m] * logn(rng, n/2))
					num := 0.0
					for j := 0; j < int(d); j++ {
						if rng.Float64() < rate {
							num++
						}
					}
					carry += num
					carryDen += d
					o.Numerator, o.Denominator = carry, carryDen
				case kpi.KindMilestone:
					if m >= doneAt {
						o.Value = 1
					}
				case kpi.KindBonus:
					if rng.IntN(24) == 0 {
						o.Value = float64(1 + rng.IntN(3))
					}
				}
				if ind.Kind.ReportedMonthly() && missed[m] {
					continue
				}
				carry, carryDen = 0, 0
				if err := emit(o); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
