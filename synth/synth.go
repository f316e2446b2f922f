// Package synth generates synthetic assessments of any size for benchmarks and load tests:
// N townships × M indicators mixing every kind, and K months of reports, deterministic for a
// seed. The figures are plausible (counts near their paced targets, ratios near their
// thresholds) so that evaluations exercise every status, not one branch.
package synth

import (
	"bufio"
	"fmt"
	"io"
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
	Year       int // 2024 when zero
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

// Generate calls emit for every observation of the spec, township by township, month by
// month: every township reports every indicator every month, as a monthly form does (0 for a
// milestone not yet done, a bonus not awarded, no veto), so N × M × K observations. The same
// spec always yields the same observations.
func Generate(a *kpi.Assessment, s Spec, emit func(kpi.Observation) error) error {
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
