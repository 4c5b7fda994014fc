# Tell callacct that this workstation's person logs on, logs off, locks or unlocks the session.
# Usage: powershell -NoProfile -ExecutionPolicy Bypass -File callacct-lock.ps1 logoff|logon|lock|unlock
param([Parameter(Mandatory = $true)][ValidateSet("logoff", "logon", "lock", "unlock")][string]$Event)

$Url = if ($env:CALLACCT_URL) { $env:CALLACCT_URL } else { "https://callacct.example.com:8480" }
$TokenFile = if ($env:CALLACCT_TOKEN_FILE) { $env:CALLACCT_TOKEN_FILE } else { "$env:ProgramData\callacct\token" }

$Token = (Get-Content -Raw -Path $TokenFile).Trim()
$Body = @{ user = $env:USERNAME } | ConvertTo-Json -Compress
try {
    Invoke-RestMethod -Method Post -Uri "$Url/workstation/$Event" -TimeoutSec 10 `
        -Headers @{ Authorization = "Bearer $Token" } -ContentType "application/json" -Body $Body | Out-Null
} catch {
    # A phone that could not be locked must not stop a logoff: note it and go on.
    Write-EventLog -LogName Application -Source "callacct" -EventId 1 -EntryType Warning `
        -Message "callacct lock hook ($Event) failed: $($_.Exception.Message)" -ErrorAction SilentlyContinue
}
