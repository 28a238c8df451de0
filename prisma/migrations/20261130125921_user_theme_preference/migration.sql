-- Each operator's dashboard theme, kept with the account so it follows them to every browser.
-- CreateEnum
CREATE TYPE "theme_preference" AS ENUM ('system', 'light', 'dark');

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "theme" "theme_preference" NOT NULL DEFAULT 'system';
