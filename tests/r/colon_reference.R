# Second-hand reference for the colon article (examples/colon): every number the article prints,
# recomputed with base R and survival from data/colon.csv alone (not from anything the engine wrote).
# Usage: Rscript tests/r/colon_reference.R [examples/colon/data/colon.csv]
# Output: one line per number, `key<TAB>value`, keys as the study file's ledger names them
# (study-design: <ep>.median.<arm>, <ep>.rate60.<arm>, <ep>.logrank.p, <ep>.cox.uni.rx.<arm>.hr, ...);
# numbers unrounded (17 significant digits), table cells as the journal style prints them, NA when a
# quantity does not exist (a median not reached).
#
# Definitions (as in examples/colon/study.yaml):
#   one row per patient from the two records (etype 1 recurrence, 2 death);
#   rfs: recurrence or death, whichever first (time = min of the two times, event if either);
#   os:  death from any cause;
#   ttr: recurrence, deaths without recurrence censored at death (the reports' "recurrence rate");
#   times in months = days / 30.4375; landmark 60 months; KM CIs on the log-log scale;
#   Cox: Efron ties, Wald CIs and p, observation (Obs) as reference; multivariable model with every
#   candidate on complete cases; cox.zph with the KM transform; follow-up by reverse Kaplan-Meier.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
path <- if (length(args)) args[1] else "examples/colon/data/colon.csv"
days_per_month <- 30.4375
landmark <- 60
arms <- c(Obs = "obs", Lev = "lev", "Lev+5FU" = "lev5fu")   # level -> ledger key
dash <- intToUtf8(8211)

out <- function(key, value) {
  text <- if (is.character(value)) value else if (is.na(value)) "NA" else format(value, digits = 17)
  cat(key, "\t", text, "\n", sep = "")
}

long <- read.csv(path, na.strings = "", stringsAsFactors = FALSE)
# the long layout: exactly one row per record per patient; every other column constant
stopifnot(all(table(long$id, long$etype) == 1))
rec <- long[long$etype == 1, ]
dth <- long[long$etype == 2, ]
rec <- rec[order(rec$id), ]
dth <- dth[order(dth$id), ]
constant <- setdiff(names(long), c("time", "status", "etype"))
stopifnot(identical(rec[constant], dth[constant]) || isTRUE(all.equal(rec[constant], dth[constant], check.attributes = FALSE)))
d <- rec[constant]
d$rx <- factor(d$rx, levels = names(arms))
d$time_recurrence <- rec$time
d$status_recurrence <- rec$status
d$time_death <- dth$time
d$status_death <- dth$status
d$rfs_months <- pmin(d$time_recurrence, d$time_death) / days_per_month
d$rfs_event <- as.integer(d$status_recurrence == 1 | d$status_death == 1)
d$os_months <- d$time_death / days_per_month
d$os_event <- d$status_death
d$ttr_months <- d$time_recurrence / days_per_month
d$ttr_event <- d$status_recurrence
# derived covariates (study.yaml derive)
d$male <- as.integer(d$sex == 1)
d$age_ge_65 <- as.integer(d$age >= 65)
d$poor_differentiation <- as.integer(d$differ == 3)
d$serosa_or_beyond <- as.integer(d$extent >= 3)
candidates <- c("male", "age_ge_65", "obstruct", "perfor", "adhere", "node4", "poor_differentiation",
                "serosa_or_beyond", "surg")

out("n.total", nrow(d))
for (lv in names(arms)) out(paste0("n.", arms[[lv]]), sum(d$rx == lv))

# Kaplan-Meier, landmark rates, log-rank, Cox, cox.zph per endpoint
term_key <- function(term) {
  if (startsWith(term, "rx")) paste0("rx.", arms[[substring(term, 3)]]) else term
}
cox_out <- function(prefix, fit) {
  s <- summary(fit)
  for (term in rownames(s$coefficients)) {
    key <- paste0(prefix, ".", term_key(term))
    out(paste0(key, ".coef"), s$coefficients[term, "coef"])
    out(paste0(key, ".se"), s$coefficients[term, "se(coef)"])
    out(paste0(key, ".hr"), s$conf.int[term, "exp(coef)"])
    out(paste0(key, ".hr.ci_low"), s$conf.int[term, "lower .95"])
    out(paste0(key, ".hr.ci_high"), s$conf.int[term, "upper .95"])
    out(paste0(key, ".p"), s$coefficients[term, "Pr(>|z|)"])
    if (startsWith(term, "rx")) {
      # 100 x (1 - HR), the form of the reports' results, with its interval (limits swap)
      out(paste0(key, ".reduction"), 100 * (1 - s$conf.int[term, "exp(coef)"]))
      out(paste0(key, ".reduction.ci_low"), 100 * (1 - s$conf.int[term, "upper .95"]))
      out(paste0(key, ".reduction.ci_high"), 100 * (1 - s$conf.int[term, "lower .95"]))
    }
  }
}
for (ep in c("rfs", "os", "ttr")) {
  time <- d[[paste0(ep, "_months")]]
  event <- d[[paste0(ep, "_event")]]
  fit <- survfit(Surv(time, event) ~ rx, data = d, conf.type = "log-log")
  tab <- summary(fit)$table
  for (i in seq_along(arms)) {
    g <- arms[[i]]
    out(paste0(ep, ".events.", g), tab[i, "events"])
    out(paste0(ep, ".median.", g), tab[i, "median"])
    out(paste0(ep, ".median.", g, ".ci_low"), tab[i, "0.95LCL"])
    out(paste0(ep, ".median.", g, ".ci_high"), tab[i, "0.95UCL"])
    s <- summary(fit[i], times = landmark)
    out(paste0(ep, ".rate", landmark, ".", g), s$surv)
    out(paste0(ep, ".rate", landmark, ".", g, ".ci_low"), s$lower)
    out(paste0(ep, ".rate", landmark, ".", g, ".ci_high"), s$upper)
  }
  out(paste0(ep, ".events.total"), sum(event))
  lr <- survdiff(Surv(time, event) ~ rx, data = d)
  out(paste0(ep, ".logrank.chisq"), lr$chisq)
  out(paste0(ep, ".logrank.df"), length(lr$n) - 1)
  out(paste0(ep, ".logrank.p"), pchisq(lr$chisq, length(lr$n) - 1, lower.tail = FALSE))
  # pairwise log-rank against observation, for the arm-by-arm sentences
  for (lv in names(arms)[-1]) {
    pair <- d$rx %in% c("Obs", lv)
    lr2 <- survdiff(Surv(time[pair], event[pair]) ~ droplevels(d$rx[pair]))
    out(paste0(ep, ".logrank.", arms[[lv]], ".p"), pchisq(lr2$chisq, 1, lower.tail = FALSE))
  }
  d$.time <- time
  d$.event <- event
  cox_out(paste0(ep, ".cox.uni"), coxph(Surv(.time, .event) ~ rx, data = d, ties = "efron"))
  for (v in candidates) {
    cox_out(paste0(ep, ".cox.uni"), coxph(as.formula(paste("Surv(.time, .event) ~", v)), data = d, ties = "efron"))
  }
  form <- as.formula(paste("Surv(.time, .event) ~ rx +", paste(candidates, collapse = " + ")))
  multi <- coxph(form, data = d, ties = "efron")
  cox_out(paste0(ep, ".cox.multi"), multi)
  out(paste0(ep, ".cox.multi.n"), multi$n)
  out(paste0(ep, ".cox.multi.events"), multi$nevent)
  out(paste0(ep, ".cox.multi.covariates"), paste(candidates, collapse = ","))
  # proportional hazards: per term (rx one term, 2 df) and per coefficient, and global
  zt <- cox.zph(multi, transform = "km", terms = TRUE)$table
  for (term in rownames(zt)) {
    key <- if (term == "GLOBAL") "global" else term
    out(paste0(ep, ".zph.", key, ".chisq"), zt[term, "chisq"])
    out(paste0(ep, ".zph.", key, ".df"), zt[term, "df"])
    out(paste0(ep, ".zph.", key, ".p"), zt[term, "p"])
  }
  zc <- cox.zph(multi, transform = "km", terms = FALSE)$table
  for (term in setdiff(rownames(zc), "GLOBAL")) {
    out(paste0(ep, ".zph.coef.", term_key(term), ".p"), zc[term, "p"])
  }
  out(paste0(ep, ".zph.violated_terms"), paste(setdiff(rownames(zt)[zt[, "p"] < 0.05], "GLOBAL"), collapse = ","))
}

# follow-up: reverse Kaplan-Meier on overall survival (censoring as the event)
fu <- survfit(Surv(os_months, 1 - os_event) ~ 1, data = d, conf.type = "log-log")
ft <- summary(fu)$table
out("followup.median", ft[["median"]])
out("followup.median.ci_low", ft[["0.95LCL"]])
out("followup.median.ci_high", ft[["0.95UCL"]])

# Table 1 by arm and overall: median (IQR, type 7) with the Kruskal-Wallis test (the Wilcoxon
# rank-sum test generalised to three arms); n (%) of known values with Pearson's chi-square test
# without continuity correction, or Fisher's exact test when any expected count is below 5;
# an Unknown line where values are missing.
pval <- function(p) if (p < 0.001) "< 0.001" else sprintf("%.3f", p)
members <- c(lapply(names(arms), function(lv) d$rx == lv), list(rep(TRUE, nrow(d))))
names(members) <- c(unname(arms), "overall")
median_iqr <- function(x) {
  q <- quantile(x, c(0.5, 0.25, 0.75), type = 7, names = FALSE)
  digits <- if (max(abs(x)) >= 100) 0 else 1
  sprintf("%.*f (%.*f%s%.*f)", digits, q[1], digits, q[2], dash, digits, q[3])
}
continuous <- c("age", "nodes")
levels_of <- list(sex = c(0, 1), obstruct = c(0, 1), perfor = c(0, 1), adhere = c(0, 1), node4 = c(0, 1),
                  differ = 1:3, extent = 1:4, surg = c(0, 1))
for (column in c("age", "sex", "obstruct", "perfor", "adhere", "nodes", "node4", "differ", "extent", "surg")) {
  x <- d[[column]]
  known <- !is.na(x)
  if (column %in% continuous) {
    for (g in names(members)) {
      m <- members[[g]] & known
      q <- quantile(x[m], c(0.5, 0.25, 0.75), type = 7, names = FALSE)
      out(paste0("baseline.", column, ".median_iqr.", g), median_iqr(x[m]))
      out(paste0("baseline.", column, ".median_iqr.", g, ".median"), q[1])
      out(paste0("baseline.", column, ".median_iqr.", g, ".q1"), q[2])
      out(paste0("baseline.", column, ".median_iqr.", g, ".q3"), q[3])
    }
    p <- kruskal.test(x[known] ~ d$rx[known])$p.value
    out(paste0("baseline.", column, ".test"), "Kruskal-Wallis test")
  } else {
    tab <- table(factor(d$rx[known], levels = names(arms)), factor(x[known], levels = levels_of[[column]]))
    tab <- tab[, colSums(tab) > 0, drop = FALSE]
    expected <- outer(rowSums(tab), colSums(tab)) / sum(tab)
    if (any(expected < 5)) {
      p <- fisher.test(tab, workspace = 2e8)$p.value
      out(paste0("baseline.", column, ".test"), "Fisher's exact test")
    } else {
      p <- suppressWarnings(chisq.test(tab, correct = FALSE))$p.value
      out(paste0("baseline.", column, ".test"), "Pearson's chi-square test")
    }
    for (level in levels_of[[column]]) {
      for (g in names(members)) {
        m <- members[[g]] & known
        k <- sum(x[m] == level)
        out(paste0("baseline.", column, ".", level, ".", g), sprintf("%d (%.1f%%)", k, 100 * k / sum(m)))
        out(paste0("baseline.", column, ".", level, ".", g, ".count"), k)
      }
    }
  }
  out(paste0("baseline.", column, ".p"), p)
  out(paste0("baseline.", column, ".p.text"), pval(p))
  if (any(!known)) for (g in names(members)) out(paste0("baseline.", column, ".unknown.", g), sum(!known & members[[g]]))
}

# Numbers at risk under the Kaplan-Meier plots and in the supplementary tables, every `step` months
# from randomisation up to the longest follow-up (step 12 ASSUMED: the study's at-risk step)
step <- 12
for (ep in c("rfs", "os", "ttr")) {
  time <- d[[paste0(ep, "_months")]]
  event <- d[[paste0(ep, "_event")]]
  ticks <- seq(0, step * ceiling(max(time) / step), by = step)
  for (lv in names(arms)) {
    mine <- d$rx == lv
    at_risk <- summary(survfit(Surv(time[mine], event[mine]) ~ 1), times = ticks, extend = TRUE)$n.risk
    for (j in seq_along(ticks)) out(sprintf("at_risk.%s.%s.%d", ep, arms[[lv]], ticks[j]), at_risk[j])
  }
}
