// PlumbDash: built in a later issue (see issues list).
