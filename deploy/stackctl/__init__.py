"""stackctl: the logic behind manage_all.sh (processes, databases, HAProxy), as plain Python."""
