-- CreateTable
CREATE TABLE "login_failures" (
    "account" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "last_failure_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "login_failures_pkey" PRIMARY KEY ("account","address")
);

-- CreateIndex
CREATE INDEX "login_failures_last_failure_at_idx" ON "login_failures"("last_failure_at");
