# embed.awk: turns circuits/lib/* into C strings (run by the Makefile into
# $(BUILD)/circuits/lib_text.c).  Each file becomes one {name, text} entry.
BEGIN {
    print "/* Generated from circuits/lib/ by circuits/embed.awk; do not edit. */"
    print "#include \"circuits/circuits_private.h\""
    print "const circi_file circi_files[] = {"
}
FNR == 1 {
    if (NR > 1) print "    },"
    n = split(FILENAME, parts, "/")
    printf "    {\"%s\",\n", parts[n]
}
{
    gsub(/\\/, "\\\\"); gsub(/"/, "\\\"")
    printf "        \"%s\\n\"\n", $0
}
END {
    if (NR > 0) print "    },"
    print "    {0, 0}};"
}
