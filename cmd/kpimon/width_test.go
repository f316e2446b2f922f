package main

import "github.com/mattn/go-runewidth"

func displayWidth(s string) int {
	c := runewidth.NewCondition()
	c.EastAsianWidth = true
	return c.StringWidth(s)
}
