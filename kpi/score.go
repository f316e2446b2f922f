package kpi

import (
	"sort"
)

// TownshipScore is a township's score as of a period.
type TownshipScore struct {
	Township   string             `json:"township"`
	Name       string             `json:"township_name"`
	Base       float64            `json:"base"`       // sum of indicator scores (基础分), 2 decimals
	Bonus      float64            `json:"bonus"`      // capped bonus points (加分)
	Total      float64            `json:"score"`      // base + bonus, 2 decimals
	Categories map[string]float64 `json:"categories"` // score per category, 2 decimals
	Grade      string             `json:"grade"`
	Veto       bool               `json:"veto"`
	Vetoes     []string           `json:"vetoes,omitempty"` // codes of the veto indicators that fired

	total float64 // unrounded
}

// Ranking is one line of the month's ranking.
type Ranking struct {
	Rank int `json:"rank"`
	TownshipScore
	RankChange *int `json:"rank_change"` // previous rank − rank; null in January
	Tied       bool `json:"tied"`        // shares its rank (并列)

	// LastYearRank is the rank as of the same month last year, where last year is
	// attached (Result.WithLastYear) and had this unit.
	LastYearRank *int `json:"last_year_rank,omitempty"`
}

// scoreTownship sums township t's scores (evs are its evaluations, in indicator order) and
// applies grades and vetoes.
func scoreTownship(a *Assessment, evs []Evaluation, t int) TownshipScore {
	town := a.Townships[t]
	ts := TownshipScore{Township: town.Code, Name: town.Name, Categories: make(map[string]float64, len(a.categories))}
	var base, bonus float64
	var small [8]float64
	cats := small[:0]
	if len(a.categories) > len(small) {
		cats = make([]float64, len(a.categories))
	} else {
		cats = small[:len(a.categories)]
	}
	for i := range a.Indicators {
		ind := &a.Indicators[i]
		e := &evs[i]
		switch ind.Kind {
		case KindBonus:
			bonus += e.rawScore
		case KindVeto:
			if e.rawActual > 0 {
				ts.Veto = true
				ts.Vetoes = append(ts.Vetoes, ind.Code)
			}
		default:
			base += e.rawScore
			cats[a.categoryOf[i]] += e.rawScore
		}
	}
	for c, name := range a.categories {
		ts.Categories[name] = Round(cats[c], 2)
	}
	ts.total = base + bonus
	ts.Base, ts.Bonus, ts.Total = Round(base, 2), Round(bonus, 2), Round(ts.total, 2)
	ts.Grade = GradeFor(a.Grades, ts.Total, ts.Veto)
	return ts
}

// GradeFor is the first grade whose min ≤ total; a veto forces the last grade. A total
// below every min (a list whose last min is above 0) also gets the last grade.
func GradeFor(grades []Grade, total float64, veto bool) string {
	if len(grades) == 0 {
		return ""
	}
	if !veto {
		for _, g := range grades {
			if g.Min <= total {
				return g.Name
			}
		}
	}
	return grades[len(grades)-1].Name
}

// competitionRanks orders townships by total (rounded to 2 decimals), highest first, ties
// listed by code, and gives equal totals the same rank with the next rank skipped (1, 2, 2, 4).
// A township with a veto (一票否决) is out of the running: it comes after every township
// without one, and the vetoed townships are ranked among themselves by the same rule, their
// ranks continuing the numbering (… 7, 8 | 9, 9, 11). A vetoed and an unvetoed township never
// share a rank, whatever their totals.
func competitionRanks(codes []string, totals []float64, vetoed []bool) (order []int, ranks []int) {
	order = make([]int, len(codes))
	for i := range order {
		order[i] = i
	}
	rounded := make([]float64, len(totals))
	for i, v := range totals {
		rounded[i] = Round(v, 2)
	}
	sort.SliceStable(order, func(x, y int) bool {
		a, b := order[x], order[y]
		if vetoed[a] != vetoed[b] {
			return !vetoed[a]
		}
		if rounded[a] != rounded[b] {
			return rounded[a] > rounded[b]
		}
		return codes[a] < codes[b]
	})
	ranks = make([]int, len(codes))
	for pos, t := range order {
		if pos > 0 && rounded[t] == rounded[order[pos-1]] && vetoed[t] == vetoed[order[pos-1]] {
			ranks[t] = ranks[order[pos-1]]
		} else {
			ranks[t] = pos + 1
		}
	}
	return order, ranks
}

// rank builds the ranking; prevTotals and prevVetoed are the totals and vetoes a month
// earlier, used when hasPrev, so the rank change follows the same rule.
func rank(scores []TownshipScore, prevTotals []float64, prevVetoed []bool, hasPrev bool) []Ranking {
	codes := make([]string, len(scores))
	totals := make([]float64, len(scores))
	vetoed := make([]bool, len(scores))
	for t, s := range scores {
		codes[t], totals[t], vetoed[t] = s.Township, s.total, s.Veto
	}
	order, ranks := competitionRanks(codes, totals, vetoed)
	var prevRanks []int
	if hasPrev {
		_, prevRanks = competitionRanks(codes, prevTotals, prevVetoed)
	}
	count := map[int]int{}
	for _, r := range ranks {
		count[r]++
	}
	out := make([]Ranking, 0, len(scores))
	for _, t := range order {
		r := Ranking{Rank: ranks[t], TownshipScore: scores[t], Tied: count[ranks[t]] > 1}
		if hasPrev {
			ch := prevRanks[t] - ranks[t]
			r.RankChange = &ch
		}
		out = append(out, r)
	}
	return out
}
