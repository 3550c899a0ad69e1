# Reference values for the reviewer analyses (IPTW, weighted KM and Cox, subgroups, RMST, E-values),
# computed again in R from the per-patient analysis table, printed as "key value" lines.
# Usage: Rscript reviewer_reference.R FILE key=value ...
#   group=COLUMN treated=LEVEL reference=LEVEL covariates=a,b,c estimand=ATE|ATT stabilised=TRUE|FALSE
#   trim=PERCENTILE|NA bounds=LOW,HIGH|NA endpoints=os,pfs landmarks=6,12 subgroups=a,b
#   horizons=12,12 (one per endpoint) outcome=common|rare
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
opt <- list()
for (a in args[-1]) { kv <- strsplit(a, "=", fixed = TRUE)[[1]]; opt[[kv[1]]] <- kv[2] }
split <- function(x) strsplit(x, ",", fixed = TRUE)[[1]]
out <- function(key, value) cat(key, format(value, digits = 17), "\n")
covariates <- split(opt$covariates)
endpoints <- split(opt$endpoints)
landmarks <- as.numeric(split(opt$landmarks))
horizons <- as.numeric(split(opt$horizons))
subgroups <- if (is.null(opt$subgroups)) character(0) else split(opt$subgroups)
z <- qnorm(0.975)

# --- propensity score (glm) and weights, on the complete cases of the covariates
cc <- d[complete.cases(d[, covariates]), ]
cc$t <- as.integer(cc[[opt$group]] == opt$treated)
ps_fit <- glm(reformulate(covariates, "t"), family = binomial, data = cc,
              control = glm.control(epsilon = 1e-15, maxit = 200))
for (name in names(coef(ps_fit))) out(paste0("ps.coef.", name), coef(ps_fit)[[name]])
ps <- fitted(ps_fit)
if (opt$bounds != "NA") { b <- as.numeric(split(opt$bounds)); ps <- pmin(pmax(ps, b[1]), b[2]) }
p_treated <- mean(cc$t)
if (opt$estimand == "ATE") {
  w <- ifelse(cc$t == 1, 1 / ps, 1 / (1 - ps))
  if (as.logical(opt$stabilised)) w <- w * ifelse(cc$t == 1, p_treated, 1 - p_treated)
} else {
  w <- ifelse(cc$t == 1, 1, ps / (1 - ps))
}
if (opt$trim != "NA") w <- pmin(w, quantile(w, as.numeric(opt$trim) / 100, type = 7))
cc$w <- w
for (i in seq_len(nrow(cc))) out(paste0("weight.", cc$patient_id[i]), w[i])
out("ess.treated", sum(w[cc$t == 1])^2 / sum(w[cc$t == 1]^2))
out("ess.control", sum(w[cc$t == 0])^2 / sum(w[cc$t == 0]^2))

# --- standardised mean differences, cobalt's definition with s.d.denom = "pooled"
variance <- function(x) if (all(x %in% c(0, 1))) mean(x) * (1 - mean(x)) else var(x)
for (v in covariates) {
  x <- cc[[v]]; tr <- cc$t == 1
  s <- sqrt((variance(x[tr]) + variance(x[!tr])) / 2)
  out(paste0("smd.", v, ".before"), (mean(x[tr]) - mean(x[!tr])) / s)
  out(paste0("smd.", v, ".after"), (weighted.mean(x[tr], w[tr]) - weighted.mean(x[!tr], w[!tr])) / s)
}

# --- RMST by survRM2's formula (written out: survRM2 is not in Debian), and survival's own se
rmst1 <- function(time, status, tau) {
  ft <- survfit(Surv(time, status) ~ 1)
  idx <- ft$time <= tau
  wk.time <- sort(c(ft$time[idx], tau))
  wk.surv <- ft$surv[idx]
  wk.n.risk <- ft$n.risk[idx]
  wk.n.event <- ft$n.event[idx]
  time.diff <- diff(c(0, wk.time))
  areas <- time.diff * c(1, wk.surv)
  rmst <- sum(areas)
  wk.var <- ifelse((wk.n.risk - wk.n.event) == 0, 0, wk.n.event / (wk.n.risk * (wk.n.risk - wk.n.event)))
  wk.var <- c(wk.var, 0)
  rmst.var <- sum(cumsum(rev(areas[-1]))^2 * rev(wk.var)[-1])
  c(rmst, sqrt(rmst.var))
}

# --- E-value (VanderWeele and Ding 2017), by its formula
evalue <- function(hr, outcome) {
  rr <- if (outcome == "rare") hr else (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1 / hr))
  if (rr < 1) rr <- 1 / rr
  rr + sqrt(rr * (rr - 1))
}

ctl <- coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100)
groups <- c(opt$reference, opt$treated)
for (i in seq_along(endpoints)) {
  ep <- endpoints[i]
  time <- paste0(ep, "_months"); event <- paste0(ep, "_event")
  surv <- Surv(cc[[time]], cc[[event]])
  # weighted Kaplan-Meier
  for (g in groups) {
    part <- cc[[opt$group]] == g
    km <- survfit(Surv(cc[[time]][part], cc[[event]][part]) ~ 1, weights = w[part])
    out(paste0("wkm.", ep, ".", g, ".median"), summary(km)$table[["median"]])
    s <- summary(km, times = landmarks, extend = TRUE)
    for (j in seq_along(landmarks)) out(paste0("wkm.", ep, ".", g, ".rate", landmarks[j]), s$surv[j])
  }
  # weighted Cox with robust variance
  fit <- coxph(surv ~ t, data = cc, weights = w, robust = TRUE, ties = "efron", control = ctl)
  co <- summary(fit)$coefficients
  out(paste0("wcox.", ep, ".coef"), co["t", "coef"])
  out(paste0("wcox.", ep, ".naive_se"), co["t", "se(coef)"])
  out(paste0("wcox.", ep, ".se"), co["t", "robust se"])
  out(paste0("wcox.", ep, ".lower"), exp(co["t", "coef"] - z * co["t", "robust se"]))
  out(paste0("wcox.", ep, ".upper"), exp(co["t", "coef"] + z * co["t", "robust se"]))
  out(paste0("wcox.", ep, ".p"), co["t", "Pr(>|z|)"])
  hr <- exp(co["t", "coef"])
  lim <- if (hr < 1) exp(co["t", "coef"] + z * co["t", "robust se"]) else exp(co["t", "coef"] - z * co["t", "robust se"])
  includes <- (hr < 1 && lim >= 1) || (hr >= 1 && lim <= 1)
  for (outcome in c("common", "rare")) {
    out(paste0("evalue.", ep, ".", outcome, ".estimate"), evalue(hr, outcome))
    out(paste0("evalue.", ep, ".", outcome, ".limit"), if (includes) 1 else evalue(lim, outcome))
  }
  # RMST on the whole table (not the covariates' complete cases)
  tau <- horizons[i]
  r <- list()
  for (g in groups) {
    part <- d[[opt$group]] == g
    r[[g]] <- rmst1(d[[time]][part], d[[event]][part], tau)
    out(paste0("rmst.", ep, ".", g), r[[g]][1])
    out(paste0("rmst.", ep, ".", g, ".se"), r[[g]][2])
  }
  fit_all <- survfit(Surv(d[[time]], d[[event]]) ~ d[[opt$group]])
  tab <- summary(fit_all, rmean = tau)$table
  for (g in groups) out(paste0("rmst_survival.", ep, ".", g, ".se"), tab[paste0("d[[opt$group]]=", g), "se(rmean)"])
  diff <- r[[opt$treated]][1] - r[[opt$reference]][1]
  se <- sqrt(r[[opt$treated]][2]^2 + r[[opt$reference]][2]^2)
  out(paste0("rmst.", ep, ".difference"), diff)
  out(paste0("rmst.", ep, ".difference.lower"), diff - z * se)
  out(paste0("rmst.", ep, ".difference.upper"), diff + z * se)
  out(paste0("rmst.", ep, ".difference.p"), 2 * (1 - pnorm(abs(diff) / se)))
  # subgroups: HR within each level (a level needs both groups and events in each), LRT interaction
  for (v in subgroups) {
    sd <- d[complete.cases(d[, c(time, event, v)]), ]
    sd$t <- as.integer(sd[[opt$group]] == opt$treated)
    usable <- c()
    for (lv in sort(unique(sd[[v]]))) {
      part <- sd[sd[[v]] == lv, ]
      key <- paste0("subgroup.", ep, ".", v, ".", lv)
      out(paste0(key, ".n"), nrow(part))
      out(paste0(key, ".events"), sum(part[[event]]))
      ev <- tapply(part[[event]], factor(part$t, levels = 0:1), sum)
      ok <- all(!is.na(ev)) && all(ev > 0)
      out(paste0(key, ".estimable"), as.integer(ok))
      if (!ok) next
      usable <- c(usable, lv)
      f <- coxph(Surv(part[[time]], part[[event]]) ~ t, data = part, ties = "efron", control = ctl)
      c1 <- summary(f)$coefficients
      out(paste0(key, ".hr"), exp(c1["t", "coef"]))
      out(paste0(key, ".lower"), exp(c1["t", "coef"] - z * c1["t", "se(coef)"]))
      out(paste0(key, ".upper"), exp(c1["t", "coef"] + z * c1["t", "se(coef)"]))
      out(paste0(key, ".p"), c1["t", "Pr(>|z|)"])
    }
    if (length(usable) >= 2) {
      kept <- sd[sd[[v]] %in% usable, ]
      kept$s <- factor(kept[[v]], levels = usable)
      f0 <- coxph(Surv(kept[[time]], kept[[event]]) ~ t + s, data = kept, ties = "efron", control = ctl)
      f1 <- coxph(Surv(kept[[time]], kept[[event]]) ~ t * s, data = kept, ties = "efron", control = ctl)
      a <- anova(f0, f1)
      out(paste0("subgroup.", ep, ".", v, ".interaction.chisq"), a[2, "Chisq"])
      out(paste0("subgroup.", ep, ".", v, ".interaction.df"), a[2, "Df"])
      out(paste0("subgroup.", ep, ".", v, ".interaction.p"), a[2, "Pr(>|Chi|)"])
    }
  }
}
