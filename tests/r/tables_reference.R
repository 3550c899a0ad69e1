# Double programming of the article's tables in base R and survival: every cell of Table 1, the
# response table, the Cox table and the numbers-at-risk tables, recomputed from the raw export and
# the per-patient analysis table, and printed as the journal style prints it.
# Usage: Rscript tables_reference.R FOLDER
# FOLDER holds cohort.csv (the raw export), analysis-data.csv (what the models saw), groups.csv,
# levels.csv, variables.csv and covariates.csv (labels and layout) and settings.csv.
# Output: one line per table row, tab-separated: table, then the row's label and cells in order.
suppressPackageStartupMessages(library(survival))
folder <- commandArgs(trailingOnly = TRUE)[1]
input <- function(name, ...) read.csv(file.path(folder, name), stringsAsFactors = FALSE, encoding = "UTF-8", ...)
raw <- input("cohort.csv", na.strings = "")
models <- input("analysis-data.csv", na.strings = "")
groups <- input("groups.csv")
levels_of <- input("levels.csv", colClasses = "character")
variables <- input("variables.csv")
covariates <- input("covariates.csv")
settings <- input("settings.csv")
setting <- function(name) settings$value[settings$name == name]

dash <- intToUtf8(8211)
emit <- function(table, ...) cat(paste(c(table, ...), collapse = "\t"), "\n", sep = "")
pval <- function(p) if (p < 0.001) "< 0.001" else sprintf("%.3f", p)
count_pct <- function(k, n) if (n > 0) sprintf("%d (%.1f%%)", k, 100 * k / n) else sprintf("%d (NA)", k)
header <- function(n, labels = groups$label) sprintf("%s (n = %d)", labels, n)

# Derived categories, computed again from the raw export by their clinical definitions.
albi <- 0.66 * log10(raw$bilirubin_mg_dl * 17.1) - 0.085 * (raw$albumin_g_dl * 10)
raw$albi_grade <- ifelse(albi <= -2.60, "1", ifelse(albi <= -1.39, "2", "3"))
raw$child_pugh_class <- ifelse(raw$child_pugh_score <= 6, "A", ifelse(raw$child_pugh_score <= 9, "B", "C"))
raw$tumour_number_group <- ifelse(raw$tumour_number <= 1, "1", ifelse(raw$tumour_number <= 3, "2to3", "gt3"))
raw$afp_ge_400 <- ifelse(raw$afp_ng_ml >= 400, "1", "0")

# Table 1: by group and overall; percentages of known values; Unknown line where values are missing.
members <- c(lapply(groups$group, function(g) raw$group == g), list(rep(TRUE, nrow(raw))))
n_all <- c(sapply(groups$group, function(g) sum(raw$group == g)), nrow(raw))
emit("baseline", "", header(n_all, c(groups$label, "Overall")), "p-value")
median_iqr <- function(x) {
  q <- quantile(x, c(0.5, 0.25, 0.75), type = 7, names = FALSE)
  d <- if (max(abs(x)) >= 100) 0 else 1
  sprintf("%.*f (%.*f%s%.*f)", d, q[1], d, q[2], dash, d, q[3])
}
for (i in seq_len(nrow(variables))) {
  column <- variables$column[i]
  x <- raw[[column]]
  known <- !is.na(x)
  first <- known & members[[1]]
  second <- known & members[[2]]
  if (variables$continuous[i]) {
    p <- wilcox.test(x[first], x[second], exact = FALSE, correct = TRUE)$p.value
    emit("baseline", variables$label[i], sapply(members, function(m) median_iqr(x[m & known])), paste0(pval(p), "a"))
  } else {
    lv <- levels_of[levels_of$column == column, ]
    x <- as.character(x)
    counts <- t(sapply(members, function(m) sapply(lv$level, function(l) sum(known & m & x == l))))
    tab <- counts[1:2, colSums(counts[1:2, , drop = FALSE]) > 0, drop = FALSE]
    expected <- outer(rowSums(tab), colSums(tab)) / sum(tab)
    if (any(expected < setting("min_expected"))) {
      p <- paste0(pval(fisher.test(tab)$p.value), "c")
    } else {
      p <- paste0(pval(chisq.test(tab, correct = FALSE)$p.value), "b")
    }
    emit("baseline", variables$label[i], "", "", "", p)
    n_known <- sapply(members, function(m) sum(known & m))
    for (j in seq_len(nrow(lv))) {
      emit("baseline", lv$label[j], sapply(1:3, function(k) count_pct(counts[k, j], n_known[k])), "")
    }
  }
  if (any(!known)) emit("baseline", "Unknown", sapply(members, function(m) sum(!known & m)), "")
}

# Table 2: best overall response, ORR and DCR with Clopper-Pearson limits, Fisher's exact test.
n_group <- sapply(groups$group, function(g) sum(raw$group == g))
emit("response", "", header(n_group), "p-value")
rate <- function(hit) {
  sapply(groups$group, function(g) {
    k <- sum(hit[raw$group == g])
    n <- sum(raw$group == g)
    ci <- binom.test(k, n)$conf.int
    sprintf("%.1f%% (%.1f%s%.1f%%)", 100 * k / n, 100 * ci[1], dash, 100 * ci[2])
  })
}
for (criterion in c("recist_bor", "mrecist_bor")) {
  emit("response", if (criterion == "recist_bor") "RECIST 1.1" else "mRECIST")
  lv <- levels_of[levels_of$column == criterion, ]
  for (j in seq_len(nrow(lv))) {
    emit("response", lv$label[j], sapply(groups$group, function(g) {
      count_pct(sum(raw[[criterion]] == lv$level[j] & raw$group == g), sum(raw$group == g))
    }), "")
  }
  for (rule in list(c("ORR", "CR", "PR"), c("DCR", "CR", "PR", "SD"))) {
    hit <- raw[[criterion]] %in% rule[-1]
    p <- fisher.test(table(factor(raw$group, levels = groups$group), factor(hit, levels = c(TRUE, FALSE))))$p.value
    emit("response", paste0(rule[1], ", % (95% CI)"), rate(hit), pval(p))
  }
}

# Table 3: univariable Cox models for every candidate, then the group plus every candidate with
# univariable p below the threshold, on complete cases; Efron ties, Wald intervals and p-values.
hr_cells <- function(fit, term) {
  s <- summary(fit)
  c(sprintf("%.2f (%.2f%s%.2f)", s$conf.int[term, "exp(coef)"], s$conf.int[term, "lower .95"], dash,
            s$conf.int[term, "upper .95"]), pval(s$coefficients[term, "Pr(>|z|)"]))
}
cells <- list()
for (endpoint in c("os", "pfs")) {
  outcome <- sprintf("Surv(%s_months, %s_event)", endpoint, endpoint)
  uni <- lapply(covariates$name, function(v) coxph(as.formula(paste(outcome, "~", v)), data = models, ties = "efron"))
  p_uni <- sapply(seq_along(uni), function(i) summary(uni[[i]])$coefficients[1, "Pr(>|z|)"])
  chosen <- c(covariates$name[1], covariates$name[-1][p_uni[-1] < setting("selection_p")])
  multi <- coxph(as.formula(paste(outcome, "~", paste(chosen, collapse = " + "))), data = models, ties = "efron")
  cells[[endpoint]] <- lapply(seq_along(uni), function(i) {
    v <- covariates$name[i]
    c(hr_cells(uni[[i]], v), if (v %in% chosen) hr_cells(multi, v) else rep(intToUtf8(8212), 2))
  })
}
for (i in seq_len(nrow(covariates))) emit("cox", covariates$label[i], cells$os[[i]], cells$pfs[[i]])

# Numbers at risk every `step` months up to the longest follow-up of the endpoint.
for (endpoint in c("os", "pfs")) {
  time <- models[[paste0(endpoint, "_months")]]
  event <- models[[paste0(endpoint, "_event")]]
  ticks <- seq(0, setting("at_risk_step") * ceiling(max(time) / setting("at_risk_step")), by = setting("at_risk_step"))
  table <- paste0("at_risk_", endpoint)
  emit(table, "Months since HAIC start", sprintf("%g", ticks))
  for (j in seq_len(nrow(groups))) {
    mine <- models$group == groups$group[j]
    at_risk <- summary(survfit(Surv(time[mine], event[mine]) ~ 1), times = ticks, extend = TRUE)$n.risk
    emit(table, groups$label[j], at_risk)
  }
}
