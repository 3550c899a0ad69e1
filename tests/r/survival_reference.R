# Reference values from R's survival package for one dataset, printed as "key value" lines.
# Usage: Rscript survival_reference.R FILE TIME EVENT GROUP COVARIATES(comma-separated) LANDMARK
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
time <- args[2]; event <- args[3]; group <- args[4]
covariates <- strsplit(args[5], ",")[[1]]
landmark <- as.numeric(args[6])
out <- function(key, value) cat(key, format(value, digits = 17), "\n")
surv <- Surv(d[[time]], d[[event]])
g <- factor(d[[group]])
fit <- survfit(surv ~ g, conf.type = "log-log")
tab <- summary(fit)$table
for (i in seq_along(levels(g))) {
  lv <- levels(g)[i]
  out(paste0("median.", lv), tab[i, "median"])
  out(paste0("median_lcl.", lv), tab[i, "0.95LCL"])
  out(paste0("median_ucl.", lv), tab[i, "0.95UCL"])
  s <- summary(fit[i], times = landmark)
  out(paste0("rate.", lv), s$surv)
  out(paste0("rate_lower.", lv), s$lower)
  out(paste0("rate_upper.", lv), s$upper)
}
sd <- survdiff(surv ~ g)
out("logrank.chisq", sd$chisq)
out("logrank.p", pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE))
form <- as.formula(paste("Surv(", time, ",", event, ") ~", paste(covariates, collapse = " + ")))
cfit <- coxph(form, data = d, ties = "efron")
co <- summary(cfit)$coefficients
ci <- summary(cfit)$conf.int
for (v in covariates) {
  out(paste0("coef.", v), co[v, "coef"])
  out(paste0("se.", v), co[v, "se(coef)"])
  out(paste0("p.", v), co[v, "Pr(>|z|)"])
  out(paste0("lower.", v), ci[v, "lower .95"])
  out(paste0("upper.", v), ci[v, "upper .95"])
}
z <- cox.zph(cfit)$table
for (v in rownames(z)) {
  out(paste0("zph_chisq.", v), z[v, "chisq"])
  out(paste0("zph_p.", v), z[v, "p"])
}
