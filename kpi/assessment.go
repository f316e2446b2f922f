package kpi

import (
	"strings"
	"time"

	"golang.org/x/text/width"
)

// Kind says what a township reports for an indicator each month and how the actual as of a
// period is formed from those reports.
type Kind string

// The indicator kinds (docs/semantics.md, "Indicator kinds").
const (
	KindCount     Kind = "count"     // the month's flow; actual = sum of months ≤ P
	KindStock     Kind = "stock"     // the current level; actual = latest reported month ≤ P
	KindRatio     Kind = "ratio"     // numerator and denominator; actual = Σnum / Σden
	KindMilestone Kind = "milestone" // 1 when done; actual = 1 if any month ≤ P reported 1
	KindBonus     Kind = "bonus"     // points awarded (加分); actual = sum capped at Max
	KindVeto      Kind = "veto"      // 1 when a veto event happened (一票否决)
)

// kinds lists every kind in the order docs/semantics.md gives them.
var kinds = []Kind{KindCount, KindStock, KindRatio, KindMilestone, KindBonus, KindVeto}

// Valid reports whether k is one of the six kinds (docs/semantics.md).
func (k Kind) Valid() bool {
	for _, x := range kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Scored reports whether indicators of this kind carry a weight (分值) and a status.
func (k Kind) Scored() bool { return k != KindBonus && k != KindVeto }

// ReportedMonthly reports whether townships report this kind every month (count, stock,
// ratio), so that a month without a report is missing. Milestones, bonuses and vetoes are
// reported when they happen: no report means not done, no points, no veto.
func (k Kind) ReportedMonthly() bool { return k == KindCount || k == KindStock || k == KindRatio }

// Label is the kind's Chinese name.
func (k Kind) Label() string {
	switch k {
	case KindCount:
		return "累计量"
	case KindStock:
		return "存量"
	case KindRatio:
		return "比率"
	case KindMilestone:
		return "节点任务"
	case KindBonus:
		return "加分项"
	case KindVeto:
		return "一票否决"
	}
	return string(k)
}

// Direction says whether a count or stock target is a floor (higher is better) or a ceiling.
type Direction string

// Directions of a count or stock target.
const (
	Higher Direction = "higher"
	Lower  Direction = "lower"
)

// Township is a unit being assessed (乡镇、街道; a city's 县（市、区）).
type Township struct {
	Code string // stable ASCII identity
	Name string // display name, e.g. 东城街道

	// Assessment is, for a city's county (a province's city), the id of the unit's own
	// assessment (config `assessment:`), which its figures are aggregated from and its
	// pages link to; empty otherwise.
	Assessment string

	// Contact is who reports for the township (联系人, e.g. the federation chair), and
	// Mobile her mobile number: reminders to the group name her and, on DingTalk, @-mention
	// her by it. Both optional.
	Contact string
	Mobile  string
}

// Grade is one band of the grading list (等次), e.g. 优秀 from 90 points.
type Grade struct {
	Name string
	Min  float64
}

// Pacing is an indicator's schedule (序时进度): the cumulative fraction of the annual target
// expected by the end of each month.
type Pacing struct {
	Name      string      // "linear", "none" or "custom"
	Fractions [12]float64 // f(1) … f(12); f(12) = 1
}

// LinearPacing expects m/12 of the target by month m.
func LinearPacing() Pacing {
	p := Pacing{Name: "linear"}
	for m := 1; m <= 12; m++ {
		p.Fractions[m-1] = float64(m) / 12
	}
	return p
}

// NoPacing expects the full target at every period.
func NoPacing() Pacing {
	p := Pacing{Name: "none"}
	for m := range p.Fractions {
		p.Fractions[m] = 1
	}
	return p
}

// Fraction is f(m) for month m (1 … 12).
func (p Pacing) Fraction(m int) float64 { return p.Fractions[m-1] }

// Expected is target × f(m), computed as target × m / 12 for linear pacing so that a target
// divisible by twelve gives an exact figure (108 × 7/12 is 63, not 63.00000000000001).
func (p Pacing) Expected(target float64, m int) float64 {
	if p.Name == "linear" {
		return target * float64(m) / 12
	}
	return target * p.Fractions[m-1]
}

// ExpectedFrom is a stock's expected level with a baseline b (年初基数): b + (target − b) ×
// f(m), the growth from the baseline paced like a target. With b = 0 it is Expected.
func (p Pacing) ExpectedFrom(b, target float64, m int) float64 {
	if b == 0 {
		return p.Expected(target, m)
	}
	return b + p.Expected(target-b, m)
}

// Indicator is one assessed quantity (考核指标) with its target rules.
type Indicator struct {
	Code      string
	Name      string
	Category  string // 类别, e.g. 维权信访; "其他" when the config gives none
	Unit      string // 单位, e.g. 人, 场, %
	Kind      Kind
	Weight    float64 // 分值; 0 for bonus and veto
	Direction Direction

	// Target is the annual target of a count or stock (nil: tracked only), and Targets the
	// per-township overrides. For a ratio, Targets overrides Threshold per township.
	Target  *float64
	Targets map[string]float64

	// Baseline is a stock's level at the start of the year (年初基数; direction higher, with
	// a target), and Baselines the per-township overrides: the year's task is the growth
	// from the baseline to the target. 0 when not set.
	Baseline  float64
	Baselines map[string]float64

	// BaselineLastYear is `baseline: last_year`: each township's baseline is its December
	// level in the previous year's assessment, filled into Baselines by
	// Assessment.WithLastYearBaselines (0 until then, and where last year has none).
	BaselineLastYear bool

	Pacing Pacing  // count and stock
	Warn   float64 // count/stock higher: at_risk from Warn × expected; default 0.9

	Threshold      float64  // ratio: the rate to hold at every period, 0.98 for 98%
	Margin         float64  // ratio: at_risk within Margin below the threshold; default 0.02
	DeductPerPoint *float64 // ratio: points deducted per percentage point below threshold

	Due int     // milestone: the month (1 … 12) by which it is due
	Max float64 // bonus: the cap on the year's points

	// From is, on a city (province), the code of the indicator in the units' own
	// assessments whose aggregate is each unit's figure (config `from:`); empty when not
	// given, and then the indicator's own code is the source where the unit's assessment
	// has it (Source, LinkUnits).
	From string
}

// Source is the code of the indicator in the units' own assessments that a city's
// indicator is aggregated from: From, or the indicator's own code.
func (ind *Indicator) Source() string {
	if ind.From != "" {
		return ind.From
	}
	return ind.Code
}

// TargetFor is the annual target of a count or stock for the township, nil when tracked only.
func (ind *Indicator) TargetFor(township string) *float64 {
	// v is declared only where it is returned, so that a township without an override
	// allocates nothing (this runs for every cell of every evaluation)
	if _, ok := ind.Targets[township]; ok {
		v := ind.Targets[township]
		return &v
	}
	return ind.Target
}

// BaselineFor is a stock's baseline (年初基数) for the township, 0 when none is set.
func (ind *Indicator) BaselineFor(township string) float64 {
	if v, ok := ind.Baselines[township]; ok {
		return v
	}
	return ind.Baseline
}

// ThresholdFor is a ratio's threshold for the township.
func (ind *Indicator) ThresholdFor(township string) float64 {
	if v, ok := ind.Targets[township]; ok {
		return v
	}
	return ind.Threshold
}

// Assessment is a validated assessment config (考核方案): one year, its townships, its
// indicators and its grades. Build it with LoadConfig or ParseConfig; do not change it after.
type Assessment struct {
	ID                string // the assessment's identity (config id:; default the config file's base name)
	Level             Level  // county (default), district, city or province
	Name              string
	Year              int
	Timezone          string
	Location          *time.Location
	ReportDeadlineDay int // reports for month P are due by this day of the month after P
	ForecastFrom      int // forecast_miss alerts run from this month (default 4) to November
	Grades            []Grade
	Townships         []Township
	Indicators        []Indicator
	Notify            Notify
	Warnings          []Problem // valid but probably unintended settings, with lines

	categories      []string // of the scored indicators, in config order
	categoryOf      []int    // indicator position → index in categories (-1 for bonus and veto)
	townshipByCode  map[string]int
	townshipByName  map[string]int
	indicatorByCode map[string]int
	indicatorByName map[string]int
}

// Notify configures where alerts, reminders and rankings are sent (企业微信、钉钉 group robots,
// plain webhooks). It is data only; delivery lives outside this package.
type Notify struct {
	BaseURL        string    // the address of kpimon's pages, for links in messages
	RemindDaysLeft int       // remind townships with missing reports this many days before the deadline
	Webhooks       []Webhook // group robots and plain webhooks
}

// Webhook is one notification target.
type Webhook struct {
	Name   string
	Type   string // wecom, dingtalk or json
	URL    string
	Secret string   // dingtalk: the robot's signing secret (加签)
	Events []string // alerts, reminders, rankings; empty means all
}

// DefaultGrades is the grading list used when the config gives none.
func DefaultGrades() []Grade {
	return []Grade{{Name: "优秀", Min: 90}, {Name: "称职", Min: 60}, {Name: "不称职", Min: 0}}
}

// Township returns the township with the code, and whether there is one.
func (a *Assessment) Township(code string) (Township, bool) {
	i, ok := a.townshipByCode[code]
	if !ok {
		return Township{}, false
	}
	return a.Townships[i], true
}

// Indicator returns the indicator with the code, and whether there is one.
func (a *Assessment) Indicator(code string) (*Indicator, bool) {
	i, ok := a.indicatorByCode[code]
	if !ok {
		return nil, false
	}
	return &a.Indicators[i], true
}

// TownshipIndex is the position of the township with the code, or -1.
func (a *Assessment) TownshipIndex(code string) int {
	if i, ok := a.townshipByCode[code]; ok {
		return i
	}
	return -1
}

// IndicatorIndex is the position of the indicator with the code, or -1.
func (a *Assessment) IndicatorIndex(code string) int {
	if i, ok := a.indicatorByCode[code]; ok {
		return i
	}
	return -1
}

// ResolveTownship finds a township by code or, failing that, by name. Names match
// whatever the width of their characters and spaces: （） and () are the same, since input
// methods type either.
func (a *Assessment) ResolveTownship(s string) (int, bool) {
	if i, ok := a.townshipByCode[s]; ok {
		return i, true
	}
	i, ok := a.townshipByName[nameKey(s)]
	return i, ok
}

// ResolveIndicator finds an indicator by code or, failing that, by name, as
// ResolveTownship does.
func (a *Assessment) ResolveIndicator(s string) (int, bool) {
	if i, ok := a.indicatorByCode[s]; ok {
		return i, true
	}
	i, ok := a.indicatorByName[nameKey(s)]
	return i, ok
}

// nameKey folds a name for matching: full-width forms to ASCII, spaces removed.
func nameKey(s string) string {
	return strings.Join(strings.Fields(width.Fold.String(s)), "")
}

// Categories lists the categories of the scored indicators in config order, each once.
func (a *Assessment) Categories() []string { return append([]string(nil), a.categories...) }

// MaxScore is the sum of the weights: the base score of a township that meets everything.
func (a *Assessment) MaxScore() float64 {
	var s float64
	for _, ind := range a.Indicators {
		s += ind.Weight
	}
	return s
}

// ratioCount is the number of ratio indicators.
func (a *Assessment) ratioCount() int {
	n := 0
	for i := range a.Indicators {
		if a.Indicators[i].Kind == KindRatio {
			n++
		}
	}
	return n
}

// index builds the lookup maps; called once validation has passed.
func (a *Assessment) index() {
	a.categories, a.categoryOf = nil, make([]int, len(a.Indicators))
	seen := map[string]int{}
	for i, ind := range a.Indicators {
		a.categoryOf[i] = -1
		if !ind.Kind.Scored() {
			continue
		}
		c, ok := seen[ind.Category]
		if !ok {
			c = len(a.categories)
			seen[ind.Category] = c
			a.categories = append(a.categories, ind.Category)
		}
		a.categoryOf[i] = c
	}
	a.townshipByCode = make(map[string]int, len(a.Townships))
	a.townshipByName = make(map[string]int, len(a.Townships))
	for i, t := range a.Townships {
		a.townshipByCode[t.Code] = i
		a.townshipByName[nameKey(t.Name)] = i
	}
	a.indicatorByCode = make(map[string]int, len(a.Indicators))
	a.indicatorByName = make(map[string]int, len(a.Indicators))
	for i, ind := range a.Indicators {
		a.indicatorByCode[ind.Code] = i
		a.indicatorByName[nameKey(ind.Name)] = i
	}
}
