package kpi

import (
	"math"
	"strconv"
)

// Num is a figure that may be undefined (JSON null): an actual with no reports, a pace
// where nothing is expected. It avoids a pointer per figure in large evaluations.
type Num struct {
	V     float64
	Valid bool
}

// Some is a defined figure.
func Some(v float64) Num { return Num{V: v, Valid: true} }

// MarshalJSON writes the figure, or null.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Valid || math.IsNaN(n.V) || math.IsInf(n.V, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, n.V, 'f', -1, 64), nil
}

// UnmarshalJSON reads a number or null.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num{}
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*n = Some(v)
	return nil
}

// Round rounds v to the given number of decimals, half away from zero.
func Round(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // no negative zero in output
	}
	return r
}

// round4 rounds figures and fractions for output (0.4667); round2 rounds points (18.67).
func round4(n Num) Num {
	if n.Valid {
		n.V = Round(n.V, 4)
	}
	return n
}
