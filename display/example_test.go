package display_test

import "github.com/faildirs/faildirs/display"

// ExampleTable prints a table as text (outside a notebook); in GoNB, Show displays it as an HTML table.
func ExampleTable() {
	t := display.NewTable("CelebA age, base model (test)", "group", "accuracy", "paper")
	t.Row("old, female (minority)", 0.6123, "0.542")
	t.Row("all", 0.8, "0.796")
	t.Show()
	// Output:
	// CelebA age, base model (test)
	// group                   accuracy  paper
	// old, female (minority)     0.612  0.542
	// all                        0.800  0.796
}
