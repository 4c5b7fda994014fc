# Register the scheduled tasks that run callacct-lock.ps1 at logon and on session lock/unlock
# for every user of this machine. Run once, as an administrator, from the folder holding
# callacct-lock.ps1 (it is copied to C:\ProgramData\callacct). Logoff has no task trigger:
# add callacct-lock.ps1 logoff as a logoff script by Group Policy (docs/lock.md).
$Folder = "$env:ProgramData\callacct"
New-Item -ItemType Directory -Force -Path $Folder | Out-Null
Copy-Item -Force -Path (Join-Path $PSScriptRoot "callacct-lock.ps1") -Destination $Folder
New-EventLog -LogName Application -Source "callacct" -ErrorAction SilentlyContinue

function Add-LockTask([string]$Name, [string]$Event, $Trigger) {
    $Action = New-ScheduledTaskAction -Execute "powershell.exe" `
        -Argument "-NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File `"$Folder\callacct-lock.ps1`" $Event"
    $Principal = New-ScheduledTaskPrincipal -GroupId "S-1-5-32-545" -RunLevel Limited  # Users
    Register-ScheduledTask -TaskName $Name -TaskPath "\callacct\" -Action $Action -Trigger $Trigger `
        -Principal $Principal -Force | Out-Null
}

# Session state change triggers: 7 = session lock, 8 = session unlock.
$Class = Get-CimClass -Namespace Root/Microsoft/Windows/TaskScheduler -ClassName MSFT_TaskSessionStateChangeTrigger
$OnLock = New-CimInstance -CimClass $Class -ClientOnly -Property @{ StateChange = 7 }
$OnUnlock = New-CimInstance -CimClass $Class -ClientOnly -Property @{ StateChange = 8 }

Add-LockTask "callacct lock on logon" "logon" (New-ScheduledTaskTrigger -AtLogOn)
Add-LockTask "callacct lock on session lock" "lock" $OnLock
Add-LockTask "callacct unlock on session unlock" "unlock" $OnUnlock
Write-Output "Tasks registered under \callacct\. Put the token in $Folder\token."
