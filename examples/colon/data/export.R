# Export R's survival::colon to colon.csv beside this script, exactly as the package holds it.
#
# The data are the NCCTG / Intergroup 0035 trial of adjuvant levamisole and fluorouracil after
# resection of stage III colon cancer (Moertel et al., N Engl J Med 1990;322:352-8; final report
# Ann Intern Med 1995;122:321-6), as distributed with the R package `survival` (LGPL >= 2).
# Nothing is changed: every row (two per patient: etype 1 = recurrence, 2 = death), every column,
# the package's row order and its missing values. The file is written deterministically (same bytes
# on every run of the same survival version): UTF-8, LF line ends, no quotes, no row names,
# missing values as empty cells, numbers as integers when whole (they all are).
#
# Usage (from anywhere): Rscript examples/colon/data/export.R
suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
folder <- if (length(script)) dirname(normalizePath(script)) else getwd()
target <- file.path(folder, "colon.csv")

data("cancer", package = "survival", envir = environment())
colon <- get("colon", envir = environment())
stopifnot(nrow(colon) == 1858, length(unique(colon$id)) == 929)

as_text <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.numeric(x)) {
    stopifnot(all(is.na(x) | x == round(x)))
    x <- ifelse(is.na(x), NA, sprintf("%d", as.integer(round(x))))
  }
  ifelse(is.na(x), "", x)
}
cells <- as.data.frame(lapply(colon, as_text), stringsAsFactors = FALSE)
stopifnot(!any(grepl("[,\"\n]", unlist(cells))))
lines <- c(paste(names(colon), collapse = ","), do.call(paste, c(cells, sep = ",")))
connection <- file(target, open = "wb")
writeLines(lines, connection, sep = "\n", useBytes = TRUE)
close(connection)

cat(sprintf("wrote %s: %d rows, %d patients, survival %s\n", target, nrow(colon),
            length(unique(colon$id)), as.character(packageVersion("survival"))))
