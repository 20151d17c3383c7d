//go:build !plan9

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

var (
	white  = color.RGBA{255, 255, 255, 255}
	black  = color.RGBA{20, 20, 20, 255}
	grey   = color.RGBA{200, 200, 200, 255}
	goBar  = color.RGBA{31, 78, 140, 255}
	cBar   = color.RGBA{240, 160, 60, 255}
	missed = color.RGBA{190, 40, 40, 255}
)

// chart draws the figures that have a limit as horizontal bars, each
// the figure's fraction of its limit (dark) with the C figure's fraction
// of the same limit below it (light), numbered as in the report's table.
// A bar past 100% is cut at the edge and its label says how far.
func chart(rows []Row) ([]byte, error) {
	var bars []Row
	for _, r := range rows {
		if r.Chart {
			bars = append(bars, r)
		}
	}
	const (
		scale  = 2
		left   = 300 // labels
		width  = 1200
		right  = 220 // percentages
		top    = 90
		rowH   = 40
		bottom = 60
	)
	plotW := width - left - right
	height := top + rowH*len(bars) + bottom
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, img.Bounds(), white)

	drawText(img, 20, 16, "EACH FIGURE AS A FRACTION OF ITS LIMIT", scale+1, black)
	fill(img, image.Rect(20, 56, 44, 70), goBar)
	drawText(img, 50, 56, "GO", scale, black)
	fill(img, image.Rect(110, 56, 134, 70), cBar)
	drawText(img, 140, 56, "C (FIXTURES README)", scale, black)
	fill(img, image.Rect(400, 56, 424, 70), missed)
	drawText(img, 430, 56, "TARGET MISSED", scale, black)
	drawText(img, 640, 56, "LIMITS: SHA-1, DISK, LOOPBACK", scale, black)

	for _, pct := range []int{0, 25, 50, 75, 100} {
		x := left + plotW*pct/100
		fill(img, image.Rect(x, top-4, x+1, top+rowH*len(bars)), grey)
		s := fmt.Sprintf("%d%%", pct)
		drawText(img, x-textWidth(s, scale)/2, top+rowH*len(bars)+8, s, scale, black)
	}
	for i, r := range bars {
		y := top + i*rowH
		label := fmt.Sprintf("%2d %s", i+1, r.Label)
		drawText(img, 12, y+6, label, scale, black)
		barCol := goBar
		if r.Met < 0 {
			barCol = missed
		}
		w := frac(r.Ratio, plotW)
		fill(img, image.Rect(left, y+4, left+w, y+20), barCol)
		if r.C > 0 && r.Limit > 0 {
			fill(img, image.Rect(left, y+22, left+frac(r.C/r.Limit, plotW), y+32), cBar)
		}
		s := fmt.Sprintf("%.0f%%", 100*r.Ratio)
		if math.IsNaN(r.Ratio) || math.IsInf(r.Ratio, 0) {
			s = "-"
		}
		drawText(img, left+plotW+10, y+6, s, scale, black)
		if r.C > 0 && r.Limit > 0 {
			drawText(img, left+plotW+90, y+6, fmt.Sprintf("C %.0f%%", 100*r.C/r.Limit), scale, black)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// frac is the width of a bar for fraction f of w pixels, cut to [0, w].
func frac(f float64, w int) int {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	return int(math.Min(f, 1) * float64(w))
}
