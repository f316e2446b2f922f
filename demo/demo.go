// Package demo is kpimon's bundled demonstration: the assessments of 清远市's women's
// federations and a deterministic generator of the monthly reports of their townships that
// looks like real life.
//
//   - qingcheng-2025: 清城区妇联's 2025 assessment of its eight 街道 and 镇, a whole year:
//     some townships ahead and some behind, one month's report missing, a typo corrected by
//     the district office, commendation bonuses, a breached ceiling on repeat petitions, a
//     late milestone, no veto;
//   - qingcheng-2026: the same district's 2026 assessment, up to the current month, so 同比
//     compares every figure with the same month of 2025; 飞来峡镇's October report is late;
//   - fogang-2026: 佛冈县, a second county, whose 石角镇 has the same code as 清城区's;
//   - qingxin-2026: 清新区, a third county, whose 浸潭镇 is late with September;
//   - qingyuan-2026: 清远市妇联's assessment of the three, most of its figures each county's
//     全县 aggregate of its townships' reports, two of them the share of a county's
//     townships that finished a milestone, and three reported by the counties themselves
//     (县妇联执委会议, a training the county holds, the city's commendations), which the
//     generator writes as the counties' monthly reports.
package demo

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/kpimon/kpimon/collector"
	"github.com/kpimon/kpimon/kpi"
)

//go:embed configs/*.yaml
var configs embed.FS

// IDs are the demo's assessments, in the order they are served and written.
var ids = []string{"qingcheng-2025", "qingcheng-2026", "fogang-2026", "qingxin-2026", "qingyuan-2026"}

// IDs lists the demo's assessment ids in order.
func IDs() []string { return append([]string(nil), ids...) }

// ConfigYAML is the config file of the demo assessment with the id.
func ConfigYAML(id string) ([]byte, error) {
	b, err := configs.ReadFile(path.Join("configs", id+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("demo: no assessment %q", id)
	}
	return b, nil
}

// Assessment parses the demo's first assessment, 清城区's 2025.
func Assessment() (*kpi.Assessment, error) { return AssessmentByID(ids[0]) }

// AssessmentByID parses the demo assessment with the id.
func AssessmentByID(id string) (*kpi.Assessment, error) {
	b, err := ConfigYAML(id)
	if err != nil {
		return nil, err
	}
	return kpi.ParseConfig(id+".yaml", b)
}

// Assessments parses every demo assessment, in order.
func Assessments() ([]*kpi.Assessment, error) {
	out := make([]*kpi.Assessment, 0, len(ids))
	for _, id := range ids {
		a, err := AssessmentByID(id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Report is one submission: a township's monthly report, or an office's correction.
type Report struct {
	Name  string    // the file name, e.g. 2025-03-东城街道.csv
	Actor string    // who submitted it
	At    time.Time // when
	CSV   []byte    // long-form CSV with township and indicator names, as a chair fills it in
}

// profile is how a township performs through the year.
type profile struct {
	perf      float64 // share of the paced target it reaches
	villages  int     // 村（社区） under it
	done      map[string]int
	bonus     map[int]float64
	repeats   map[int]float64
	weakLoans bool
}

// profiles are the named townships' years; the others get one drawn from their code.
var profiles = map[string]map[string]profile{
	"qingcheng-2025": {
		"dongcheng": {perf: 1.08, villages: 16, done: map[string]int{"half_year_summary": 6, "mediation_room": 3, "women_demo_base": 8}, bonus: map[int]float64{3: 2}},
		"fengcheng": {perf: 1.03, villages: 14, done: map[string]int{"half_year_summary": 7, "mediation_room": 5, "women_demo_base": 9}, bonus: map[int]float64{9: 1}},
		"zhouxin":   {perf: 1.00, villages: 12, done: map[string]int{"half_year_summary": 7, "mediation_room": 6, "women_demo_base": 10}},
		"henghe":    {perf: 0.97, villages: 11, done: map[string]int{"half_year_summary": 7, "mediation_room": 4, "women_demo_base": 10}, bonus: map[int]float64{11: 1.5}},
		"yuantan":   {perf: 1.01, villages: 19, done: map[string]int{"half_year_summary": 6, "mediation_room": 5, "women_demo_base": 7}},
		"longtang":  {perf: 0.90, villages: 17, done: map[string]int{"half_year_summary": 7, "mediation_room": 6}, repeats: map[int]float64{11: 1}, weakLoans: true},
		"shijiao":   {perf: 0.96, villages: 15, done: map[string]int{"half_year_summary": 7, "mediation_room": 5, "women_demo_base": 10}, repeats: map[int]float64{5: 1, 9: 1}},
		"feilaixia": {perf: 0.87, villages: 9, done: map[string]int{"half_year_summary": 8, "mediation_room": 8, "women_demo_base": 10}},
	},
	"qingcheng-2026": {
		"dongcheng": {perf: 1.05, villages: 16, done: map[string]int{"half_year_summary": 6, "mediation_room": 4, "women_demo_base": 7}, bonus: map[int]float64{4: 1}},
		"fengcheng": {perf: 1.04, villages: 14, done: map[string]int{"half_year_summary": 7, "mediation_room": 5, "women_demo_base": 9}},
		"zhouxin":   {perf: 0.98, villages: 12, done: map[string]int{"half_year_summary": 7, "mediation_room": 6}},
		"henghe":    {perf: 1.02, villages: 11, done: map[string]int{"half_year_summary": 6, "mediation_room": 4, "women_demo_base": 9}, bonus: map[int]float64{6: 1}},
		"yuantan":   {perf: 1.00, villages: 19, done: map[string]int{"half_year_summary": 6, "mediation_room": 5, "women_demo_base": 8}},
		"longtang":  {perf: 0.93, villages: 17, done: map[string]int{"half_year_summary": 7, "mediation_room": 7}, weakLoans: true},
		"shijiao":   {perf: 0.99, villages: 15, done: map[string]int{"half_year_summary": 7, "mediation_room": 5, "women_demo_base": 10}, repeats: map[int]float64{3: 1}},
		"feilaixia": {perf: 0.92, villages: 9, done: map[string]int{"half_year_summary": 7, "mediation_room": 7, "women_demo_base": 9}},
	},
	// the counties of the city, for what they report themselves: 清新区 holds its training
	// a month late
	"qingyuan-2026": {
		"qingcheng": {perf: 1.02, done: map[string]int{"county_training": 5}, bonus: map[int]float64{6: 1}},
		"fogang":    {perf: 0.96, done: map[string]int{"county_training": 9}},
		"qingxin":   {perf: 0.9, done: map[string]int{"county_training": 10}, bonus: map[int]float64{9: 0.5}},
	},
}

// drawnProfile is the year of a township the demo tells no story of, drawn from its code
// and the assessment's id so it is always the same.
func drawnProfile(assessment, code string) profile {
	h := fnv.New64a()
	h.Write([]byte(assessment + "/" + code))
	rng := rand.New(rand.NewPCG(h.Sum64(), 17))
	p := profile{
		perf:      0.8 + 0.28*rng.Float64(),
		villages:  8 + rng.IntN(12),
		done:      map[string]int{"half_year_summary": 6 + rng.IntN(3), "mediation_room": 3 + rng.IntN(7), "women_demo_base": 6 + rng.IntN(6)},
		weakLoans: rng.Float64() < 0.3,
	}
	if rng.Float64() < 0.4 {
		p.bonus = map[int]float64{1 + rng.IntN(10): float64(1 + rng.IntN(2))}
	}
	return p
}

func profileOf(assessment, code string) profile {
	if p, ok := profiles[assessment][code]; ok {
		return p
	}
	return drawnProfile(assessment, code)
}

// story is what happens in an assessment's year beyond the townships' profiles.
type story struct {
	missingTownship string // a township whose report of missingMonth never came
	missingMonth    int
	typoTownship    string // a figure typed ten times too big, corrected by the office a month later
	typoIndicator   string
	typoMonth       int
	office          string // who corrects: the office of the federation
}

var stories = map[string]story{
	// 飞来峡镇 has not sent its December report; 横荷街道 typed 820 instead of 82 screenings
	// for May, which the district office corrected in June
	"qingcheng-2025": {missingTownship: "feilaixia", missingMonth: 12, typoTownship: "henghe", typoIndicator: "cervical_screening_persons", typoMonth: 5, office: "清城区妇联办公室"},
	// 飞来峡镇 is late with October
	"qingcheng-2026": {missingTownship: "feilaixia", missingMonth: 10, office: "清城区妇联办公室"},
	"fogang-2026":    {office: "佛冈县妇联办公室"},
	"qingxin-2026":   {missingTownship: "jintan", missingMonth: 9, office: "清新区妇联办公室"},
	"qingyuan-2026":  {office: "清远市妇联办公室"},
}

// Reports generates the submissions of the assessment's whole year in the order they
// arrived. The same assessment always yields the same reports.
func Reports(a *kpi.Assessment) []Report {
	return ReportsUntil(a, time.Date(a.Year+1, 12, 31, 0, 0, 0, 0, a.Location))
}

// ReportsUntil is Reports without the submissions that arrive after now: a year under way
// has the reports of the months that have ended and been reported.
func ReportsUntil(a *kpi.Assessment, now time.Time) []Report {
	loc := a.Location
	st := stories[a.ID]
	var out []Report
	type state struct {
		cum map[string]float64
		rng *rand.Rand
	}
	states := make([]state, len(a.Townships))
	seed := uint64(a.Year)
	if a.ID != ids[0] { // the first assessment keeps the seeds its story was told with
		h := fnv.New64a()
		h.Write([]byte(a.ID))
		seed = h.Sum64()
	}
	for t := range a.Townships {
		states[t] = state{cum: map[string]float64{}, rng: rand.New(rand.NewPCG(seed, uint64(t+1)*7919))}
	}
	goals := withLastYearBaselines(a)
	derived := unitsOf(a) // a city's figures with a township source are not reported
	var typo Report
	for m := 1; m <= 12; m++ {
		p := kpi.Period{Year: a.Year, Month: m}
		for t, tw := range a.Townships {
			st2 := &states[t]
			prof := profileOf(a.ID, tw.Code)
			rows := [][]string{}
			for i := range goals.Indicators {
				ind := &goals.Indicators[i]
				if derived.Derived(t, i) {
					continue
				}
				row := monthRow(ind, tw, p, prof, st2.cum, st2.rng)
				if row == nil {
					continue
				}
				if tw.Code == st.typoTownship && ind.Code == st.typoIndicator && m == st.typoMonth {
					right := row[3]
					row[3] = right + "0"
					typo = Report{Name: fmt.Sprintf("%s-10-%s%d月数据更正.csv", p.Next(), tw.Name, m), Actor: st.office,
						At: time.Date(a.Year, time.Month(m+1), 10, 15, 20, 0, 0, loc), CSV: csvBytes([][]string{{tw.Name, ind.Name, p.String(), right, "", ""}})}
				}
				rows = append(rows, row)
			}
			// every township draws its submission time, so one missing report does not shift the others
			day, hour, minute := 1+st2.rng.IntN(5), 8+st2.rng.IntN(9), st2.rng.IntN(60)
			if tw.Code == st.missingTownship && m == st.missingMonth {
				continue
			}
			n := p.Next()
			out = append(out, Report{
				Name:  fmt.Sprintf("%s-%s.csv", p, tw.Name),
				Actor: tw.Name + "妇联",
				At:    time.Date(n.Year, time.Month(n.Month), day, hour, minute, 0, 0, loc),
				CSV:   csvBytes(rows),
			})
		}
		if st.typoTownship != "" && m == st.typoMonth+1 {
			out = append(out, typo)
		}
	}
	kept := out[:0]
	for _, r := range out {
		if !r.At.After(now) {
			kept = append(kept, r)
		}
	}
	return kept
}

// withLastYearBaselines is a with the baselines of its `baseline: last_year` stocks filled
// in from the demo's assessment of the year before (its id with the year replaced), whose
// reports are generated for it: the levels the generator grows from, as a deployment
// holding both years fills them in.
func withLastYearBaselines(a *kpi.Assessment) *kpi.Assessment {
	if !a.HasLastYearBaselines() {
		return a
	}
	prevID := strings.Replace(a.ID, strconv.Itoa(a.Year), strconv.Itoa(a.Year-1), 1)
	prev, err := AssessmentByID(prevID)
	if err != nil || prevID == a.ID {
		return a
	}
	d := kpi.NewDataset(prev)
	for _, r := range Reports(prev) {
		b := collector.NewBatch(prev)
		b.AddCSV(r.Name, bytes.NewReader(r.CSV))
		for _, o := range b.Observations() {
			d.Set(o)
		}
	}
	return a.WithLastYearBaselines(d)
}

// unitsOf links a city of the demo to the demo's assessments of its counties, nil when a
// names none (or is not the demo's).
func unitsOf(a *kpi.Assessment) *kpi.Units {
	u, err := kpi.LinkUnits(a, func(id string) (*kpi.Assessment, bool) {
		b, err := AssessmentByID(id)
		return b, err == nil
	})
	if err != nil {
		return nil
	}
	return u
}

func csvBytes(rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"乡镇", "指标", "月份", "数值", "分子", "分母"})
	w.WriteAll(rows)
	return b.Bytes()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// monthRow is one township's report of one indicator for month p, or nil when nothing is
// reported (bonuses and vetoes are reported only when they happen).
func monthRow(ind *kpi.Indicator, tw kpi.Township, p kpi.Period, prof profile, cum map[string]float64, rng *rand.Rand) []string {
	m := p.Month
	row := func(v string) []string { return []string{tw.Name, ind.Name, p.String(), v, "", ""} }
	ratio := func(n, d float64) []string { return []string{tw.Name, ind.Name, p.String(), "", num(n), num(d)} }
	jitter := func(spread float64) float64 { return 1 + spread*(2*rng.Float64()-1) }
	switch ind.Kind {
	case kpi.KindCount:
		switch ind.Code {
		case "petitions_received":
			v := float64(2 + rng.IntN(4+prof.villages/3))
			cum["received"] = v
			return row(num(v))
		case "repeat_escalated_petitions":
			return row(num(prof.repeats[m]))
		}
		target := *ind.TargetFor(tw.Code)
		perf := prof.perf
		if prof.weakLoans && (ind.Code == "women_loan_amount" || ind.Code == "women_loan_count") {
			perf *= 0.75
		}
		goal := target * ind.Pacing.Fraction(m) * perf * jitter(0.06)
		decimals := 0
		if ind.Code == "women_loan_amount" {
			decimals = 1
		}
		p10 := math.Pow10(decimals)
		goal = math.Round(goal*p10) / p10
		inc := math.Max(0, goal-cum[ind.Code])
		cum[ind.Code] += inc
		return row(num(math.Round(inc*p10) / p10))
	case kpi.KindStock:
		target := *ind.TargetFor(tw.Code)
		if ind.BaselineLastYear {
			// growth from last December's level toward the target, at the township's pace
			base := ind.BaselineFor(tw.Code)
			return row(num(math.Round(base + (target-base)*math.Min(1.05, prof.perf)*ind.Pacing.Fraction(m)*jitter(0.05))))
		}
		level := math.Round(target * math.Min(1.05, 0.4+0.6*prof.perf) * (0.9 + 0.1*float64(m)/12) * jitter(0.01))
		return row(num(level))
	case kpi.KindRatio:
		switch ind.Code {
		case "petition_closure_rate":
			recv := cum["received"]
			closed := recv
			if prof.perf < 0.95 && recv > 0 && rng.Float64() < 0.2 {
				closed--
			}
			cum["closed"] = closed
			return ratio(closed, recv)
		case "petition_satisfaction_rate":
			closed := cum["closed"]
			sat := closed
			if closed > 0 && rng.Float64() < 0.25/prof.perf {
				sat--
			}
			return ratio(sat, closed)
		case "family_dispute_resolution_rate":
			found := float64(4 + rng.IntN(10))
			solved := found
			if rng.Float64() < 0.15/prof.perf {
				solved--
			}
			return ratio(solved, found)
		case "loan_repayment_rate":
			due := float64(10 + rng.IntN(20))
			paid := due
			if prof.weakLoans && rng.Float64() < 0.5 {
				paid--
			}
			return ratio(paid, due)
		default: // coverage rates: villages covered of villages
			v := float64(prof.villages)
			covered := v
			if prof.perf < 0.95 && m <= 6 {
				covered = v - 1
			}
			if ind.Code == "parent_school_coverage" {
				covered = math.Floor(v * math.Min(1, 0.8*prof.perf+0.1+0.01*float64(m)))
			}
			return ratio(covered, v)
		}
	case kpi.KindMilestone:
		due, ok := prof.done[ind.Code]
		switch {
		case ok && m == due:
			return row("1")
		case ok && m > due:
			return nil
		}
		return row("0")
	case kpi.KindBonus:
		if v, ok := prof.bonus[m]; ok {
			return row(num(v))
		}
	}
	return nil
}
