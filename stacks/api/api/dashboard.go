package api

import (
	"encoding/json"
	"fmt"
)

// The CloudWatch dashboard body, as typed values. The body's grammar
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
// {"widgets": [{"type", "x", "y", "width", "height", "properties"}]}, where a
// metric widget's properties hold "metrics", an array of metric lines, each
// [namespace, name, dimension name, dimension value, ..., {options}] or
// [{"expression", "label", "id"}].

// Dashboard is a dashboard body.
type Dashboard struct {
	Widgets []Widget `json:"widgets"`
}

// Widget is one widget; Properties is *MetricWidget, *AlarmWidget or
// *TextWidget.
type Widget struct {
	Type       string `json:"type"`
	X          int    `json:"x"`
	Y          int    `json:"y"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Properties any    `json:"properties"`
}

// MetricWidget is a graph of metric lines.
type MetricWidget struct {
	Title   string       `json:"title"`
	View    string       `json:"view"`
	Stacked bool         `json:"stacked"`
	Region  string       `json:"region"`
	Period  int          `json:"period"`
	Metrics []MetricLine `json:"metrics"`
}

// AlarmWidget shows the state of alarms, by ARN.
type AlarmWidget struct {
	Title  string   `json:"title"`
	Alarms []string `json:"alarms"`
}

// TextWidget is markdown.
type TextWidget struct {
	Markdown string `json:"markdown"`
}

// Dimension is a metric dimension.
type Dimension struct{ Name, Value string }

// MetricLine is one line of a metric widget: a metric (Namespace, Name,
// Dimensions, Stat) or a math Expression over the ids of other lines.
type MetricLine struct {
	Namespace, Name string
	Dimensions      []Dimension
	Stat            string
	Expression      string
	Label           string
	// ID names the line for expressions; Hidden lines only feed them.
	ID     string
	Hidden bool
}

// lineOptions are the rendering options of a metric line.
type lineOptions struct {
	Expression string `json:"expression,omitempty"`
	Stat       string `json:"stat,omitempty"`
	Label      string `json:"label,omitempty"`
	ID         string `json:"id,omitempty"`
	Visible    *bool  `json:"visible,omitempty"`
}

// MarshalJSON writes the line in the dashboard's array form.
func (l MetricLine) MarshalJSON() ([]byte, error) {
	opts := lineOptions{Stat: l.Stat, Label: l.Label, ID: l.ID}
	if l.Hidden {
		f := false
		opts.Visible = &f
	}
	if l.Expression != "" {
		if l.Namespace != "" || l.Name != "" {
			return nil, fmt.Errorf("metric line %q is both an expression and a metric", l.Label)
		}
		opts.Expression, opts.Stat = l.Expression, ""
		return json.Marshal([]any{opts})
	}
	if l.Namespace == "" || l.Name == "" || l.Stat == "" {
		return nil, fmt.Errorf("metric line %q lacks a namespace, name or statistic", l.Label)
	}
	line := []any{l.Namespace, l.Name}
	for _, d := range l.Dimensions {
		line = append(line, d.Name, d.Value)
	}
	return json.Marshal(append(line, opts))
}

// UnmarshalJSON reads the array form back (the tests read the body as AWS
// would).
func (l *MetricLine) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) == 0 {
		return fmt.Errorf("empty metric line")
	}
	var opts lineOptions
	if err := json.Unmarshal(raw[len(raw)-1], &opts); err != nil {
		return fmt.Errorf("metric line options: %w", err)
	}
	*l = MetricLine{Stat: opts.Stat, Label: opts.Label, ID: opts.ID, Expression: opts.Expression, Hidden: opts.Visible != nil && !*opts.Visible}
	var strs []string
	for _, r := range raw[:len(raw)-1] {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return fmt.Errorf("metric line element %s: %w", r, err)
		}
		strs = append(strs, s)
	}
	if len(strs) == 0 {
		return nil
	}
	if len(strs) < 2 || len(strs)%2 != 0 {
		return fmt.Errorf("metric line %v: want namespace, name and dimension pairs", strs)
	}
	l.Namespace, l.Name = strs[0], strs[1]
	for i := 2; i < len(strs); i += 2 {
		l.Dimensions = append(l.Dimensions, Dimension{strs[i], strs[i+1]})
	}
	return nil
}

// UnmarshalJSON reads a widget, typing its properties by the widget type.
func (w *Widget) UnmarshalJSON(b []byte) error {
	type plain Widget
	var raw struct {
		plain
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*w = Widget(raw.plain)
	switch w.Type {
	case "metric":
		w.Properties = &MetricWidget{}
	case "alarm":
		w.Properties = &AlarmWidget{}
	case "text":
		w.Properties = &TextWidget{}
	default:
		return fmt.Errorf("unknown widget type %q", w.Type)
	}
	return json.Unmarshal(raw.Properties, w.Properties)
}

// layout places widgets left to right, wrapping at the dashboard's 24
// columns.
func layout(ws []Widget) []Widget {
	x, y, rowHeight := 0, 0, 0
	for i := range ws {
		if x+ws[i].Width > 24 {
			x, y, rowHeight = 0, y+rowHeight, 0
		}
		ws[i].X, ws[i].Y = x, y
		x += ws[i].Width
		rowHeight = max(rowHeight, ws[i].Height)
	}
	return ws
}
